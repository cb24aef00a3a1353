import { useEffect, useState } from 'react'
import { hashOf, parseHash, useRouteQuery } from './route.ts'

/** A page's filters as the hash query carries them: each key's value, '' when absent. */
export function filtersOf<K extends string>(
  keys: readonly K[],
  query: URLSearchParams,
): Record<K, string> {
  return Object.fromEntries(keys.map((k) => [k, query.get(k) ?? ''])) as Record<K, string>
}

/**
 * A page's filters kept in the hash (`#/dlq?consumerGroup=…`): a link (a Slack alert's, a
 * bookmark) opens the page filtered, and a change the user makes stays in the address (replacing
 * the history entry, not adding one per keystroke). Returns the filters and how to change them.
 */
export function useHashFilters<K extends string>(
  page: string,
  keys: readonly K[],
): [Record<K, string>, (change: Partial<Record<K, string>>) => void] {
  const query = useRouteQuery()
  const [filters, setFilters] = useState(() => filtersOf(keys, query))
  const text = query.toString()
  useEffect(() => {
    // The hash this page wrote a keystroke ago can arrive after newer ones: only the current
    // address counts (a link followed, or the user editing the address).
    if (parseHash(window.location.hash).query.toString() !== text) return
    setFilters(filtersOf(keys, new URLSearchParams(text)))
    // `keys` is a constant of the page: only the hash's query changes the filters.
  }, [text])
  const change = (changed: Partial<Record<K, string>>) => {
    const next = { ...filters, ...changed }
    setFilters(next)
    window.location.replace(hashOf([page], next))
  }
  return [filters, change]
}
