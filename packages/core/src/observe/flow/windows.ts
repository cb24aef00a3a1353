/** The windows the flow is read for, and their length: what `?window=` takes. */
export const flowWindows = {
  '15m': 15 * 60_000,
  '1h': 60 * 60_000,
  '6h': 6 * 60 * 60_000,
  '24h': 24 * 60 * 60_000,
} as const

export type FlowWindow = keyof typeof flowWindows

export const flowWindowNames = Object.keys(flowWindows) as [FlowWindow, ...FlowWindow[]]

export const defaultFlowWindow: FlowWindow = '1h'
