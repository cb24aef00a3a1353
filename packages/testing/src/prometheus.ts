import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { eventually } from './eventually.ts'
import { startOwnServer, type OwnServer } from './own-server.ts'

/**
 * A Prometheus binary (`prometheus` or `promtool`): from `PROMETHEUS_BIN` / `PROMTOOL_BIN`
 * (`infra/local/prometheus.sh` sets them), else Debian's in /usr/bin; else an error that says
 * how to install it.
 */
export function prometheusBinary(name: 'prometheus' | 'promtool'): string {
  const bin = process.env[`${name.toUpperCase()}_BIN`] || `/usr/bin/${name}`
  if (!existsSync(bin))
    throw new Error(
      `no ${name} at ${bin}: apt-get install -y prometheus (or source infra/local/prometheus.sh, or set ${name.toUpperCase()}_BIN)`,
    )
  return bin
}

/** What `promtool check metrics` said of a `/metrics` body: Prometheus's own parser and lint. */
export interface PromtoolVerdict {
  /** 0: parsed, and no lint problem. */
  code: number | null
  /** Its problems, one a line; empty when there is none. */
  output: string
}

/** Runs `promtool check metrics` on a `/metrics` body (text format). */
export function promtoolCheck(body: string): Promise<PromtoolVerdict> {
  return new Promise((resolve, reject) => {
    const child = spawn(prometheusBinary('promtool'), ['check', 'metrics'])
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, output: output.trim() }))
    child.stdin.end(body)
  })
}

/** One scrape job: its name, `host:port` targets, and how to reach them. */
export interface ScrapeJob {
  job: string
  targets: string[]
  /** @default '/metrics' */
  metricsPath?: string
  /** Sent as `Authorization: Bearer <token>`. */
  bearerToken?: string
}

/** A Prometheus server of a test's own. */
export interface PrometheusServer {
  url: string
  /** An instant query's vector: each series' labels and value. */
  query(expr: string): Promise<{ labels: Record<string, string>; value: number }[]>
  /** Each target's job, health (`up`, `down`, `unknown`) and last error. */
  targets(): Promise<{ job: string; health: string; lastError: string }[]>
  /** Stops it and removes its data. */
  dispose(): Promise<void>
}

/**
 * Starts Prometheus on a free loopback port with a config of its own (scraping every `jobs`
 * target each `scrapeIntervalSeconds`) and a temporary data folder; resolves once it is ready.
 */
export async function startPrometheus(
  jobs: readonly ScrapeJob[],
  { scrapeIntervalSeconds = 1 }: { scrapeIntervalSeconds?: number } = {},
): Promise<PrometheusServer> {
  // JSON is YAML: no YAML writer needed.
  const config = {
    global: { scrape_interval: `${scrapeIntervalSeconds}s`, scrape_timeout: '1s' },
    scrape_configs: jobs.map((job) => ({
      job_name: job.job,
      metrics_path: job.metricsPath ?? '/metrics',
      static_configs: [{ targets: job.targets }],
      ...(job.bearerToken ? { authorization: { credentials: job.bearerToken } } : {}),
    })),
  }
  const server: OwnServer = await startOwnServer({
    name: 'prometheus',
    command: prometheusBinary('prometheus'),
    prepare: (dir) => writeFile(join(dir, 'prometheus.yml'), JSON.stringify(config)),
    args: (port, dir) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
  })
  const url = `http://127.0.0.1:${server.port}`
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`)
    const answer = (await response.json()) as { status: string; data: T; error?: string }
    if (answer.status !== 'success') throw new Error(`Prometheus ${path}: ${answer.error}`)
    return answer.data
  }
  await eventually(
    async () => {
      const response = await fetch(`${url}/-/ready`)
      if (!response.ok) throw new Error(`Prometheus is not ready: ${response.status}`)
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  )
  return {
    url,
    async query(expr) {
      const data = await api<{
        result: { metric: Record<string, string>; value: [number, string] }[]
      }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)
      return data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }))
    },
    async targets() {
      const data = await api<{
        activeTargets: { labels: { job: string }; health: string; lastError: string }[]
      }>('/api/v1/targets')
      return data.activeTargets.map((t) => ({
        job: t.labels.job,
        health: t.health,
        lastError: t.lastError,
      }))
    },
    dispose: () => server.dispose(),
  }
}
