// Every read the pages make, as TanStack Query options, and the DLQ actions as mutations.
import {
  keepPreviousData,
  QueryClient,
  queryOptions,
  useMutation,
  useQueryClient,
} from '@tanstack/react-query'
import {
  api,
  Unauthorized,
  type BulkRedriveSelection,
  type DlqActionName,
  type FlowWindow,
} from './api.ts'

/**
 * The dashboard's query client. No retries: an error shows at once and the next poll tries again,
 * as before. Polling stops while the tab is hidden (`refetchIntervalInBackground` stays false)
 * and a page refetches when the tab shows again.
 */
export function createQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, refetchIntervalInBackground: false, refetchOnWindowFocus: true },
      mutations: { retry: false },
    },
  })
}

type OperationsParams = Parameters<typeof api.operations>[0]
type DlqParams = Parameters<typeof api.dlq>[0]

/** The keys: the first part names what a DLQ action can change (see `dlqActionChanges`). */
export const queryKeys = {
  operations: (params: OperationsParams) => ['operations', params] as const,
  chain: (id: string) => ['chain', id] as const,
  subjects: ['subjects'] as const,
  groups: ['consumer-groups'] as const,
  dlq: (params: DlqParams) => ['dlq', 'list', params] as const,
  dlqEntry: (id: string) => ['dlq', 'entry', id] as const,
  flow: (window: FlowWindow) => ['flow', 'graph', window] as const,
}

/** How often a page polls while live updates reach it: a safety net only. */
export const livePollMs = 30_000

// A list keeps its rows on screen while a new search or page loads, as it did before. The pages
// with live updates (`live.ts`) poll slowly while their stream is connected.
export const queries = {
  operations: (params: OperationsParams) =>
    queryOptions({
      queryKey: queryKeys.operations(params),
      queryFn: ({ signal }) => api.operations(params, signal),
      placeholderData: keepPreviousData,
      refetchInterval: 5_000,
    }),
  chain: (id: string, live = false) =>
    queryOptions({
      queryKey: queryKeys.chain(id),
      queryFn: ({ signal }) => api.chain(id, signal),
      refetchInterval: live ? livePollMs : 2_000,
    }),
  subjects: () =>
    queryOptions({
      queryKey: queryKeys.subjects,
      queryFn: ({ signal }) => api.subjects(signal),
      refetchInterval: 10_000,
    }),
  groups: () =>
    queryOptions({
      queryKey: queryKeys.groups,
      queryFn: ({ signal }) => api.groups(signal),
      refetchInterval: 5_000,
    }),
  dlq: (params: DlqParams, live = false) =>
    queryOptions({
      queryKey: queryKeys.dlq(params),
      queryFn: ({ signal }) => api.dlq(params, signal),
      placeholderData: keepPreviousData,
      refetchInterval: live ? livePollMs : 5_000,
    }),
  dlqEntry: (id: string) =>
    queryOptions({
      queryKey: queryKeys.dlqEntry(id),
      queryFn: ({ signal }) => api.dlqEntry(id, signal),
    }),
  // The flow: instances flush their counts every 10 s, so a faster poll would show nothing new.
  flow: (window: FlowWindow) =>
    queryOptions({
      queryKey: queryKeys.flow(window),
      queryFn: ({ signal }) => api.flow(window, signal),
      placeholderData: keepPreviousData,
      refetchInterval: 10_000,
    }),
}

/**
 * What a DLQ action changes: every DLQ list and entry (a redrive opens a cycle other entries
 * link to), the open counts on the subjects and consumer groups, and the chains that mark an
 * event "in the DLQ". Invalidating refetches the ones on screen at once, the rest when next shown.
 */
export const dlqActionChanges = [['dlq'], queryKeys.subjects, queryKeys.groups, ['chain']] as const

function useInvalidateAfterDlqAction() {
  const client = useQueryClient()
  return () =>
    Promise.all(dlqActionChanges.map((queryKey) => client.invalidateQueries({ queryKey })))
}

/** Redrive, discard or resolve one entry; settled (done or refused), what it changes refreshes. */
export function useDlqAction(onSignedOut: () => void) {
  const invalidate = useInvalidateAfterDlqAction()
  return useMutation({
    mutationFn: ({ id, action, text }: { id: string; action: DlqActionName; text?: string }) =>
      api.dlqAct(id, action, text),
    onError: (e) => e instanceof Unauthorized && onSignedOut(),
    onSettled: invalidate,
  })
}

/** Redrive every open entry a filter selects; then the same refresh as a single action. */
export function useBulkRedrive(onSignedOut: () => void) {
  const invalidate = useInvalidateAfterDlqAction()
  return useMutation({
    mutationFn: (selection: BulkRedriveSelection) => api.dlqBulkRedrive(selection),
    onError: (e) => e instanceof Unauthorized && onSignedOut(),
    onSettled: invalidate,
  })
}
