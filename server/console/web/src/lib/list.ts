import { computed, ref, watch } from 'vue'
import { useRoute, useRouter, type LocationQuery } from 'vue-router'
import { ApiError } from '../api/client'

export type Page<T> = { items: T[]; next_cursor: string }

// useCursorList keeps a list page's filters and position in the URL query, so the page can be
// bookmarked, shared and reloaded, and loads each page from the server (cursor paging: the API
// answers next_cursor; the cursors of the pages before are kept to go back).
export function useCursorList<T, F extends Record<string, string>>(
  defaults: F,
  load: (q: F & { cursor?: string; limit: number }) => Promise<Page<T>>,
  limit = 20,
) {
  const route = useRoute()
  const router = useRouter()
  const filters = ref({ ...defaults }) as { value: F }
  const items = ref<T[]>([]) as { value: T[] }
  const next = ref('')
  const loading = ref(false)
  const error = ref<ApiError | null>(null)
  const cursor = computed(() => str(route.query.cursor))
  // cursors of the earlier pages, kept in the URL too so "上一页" survives a reload
  // ("^" stands for the first page, which has no cursor)
  const trail = computed(() => (str(route.query.trail) ? str(route.query.trail).split('~') : []))

  function fromQuery(q: LocationQuery) {
    const f = { ...defaults } as Record<string, string>
    for (const k of Object.keys(defaults)) f[k] = str(q[k]) || (defaults as Record<string, string>)[k]
    filters.value = f as F
  }

  async function fetchPage() {
    loading.value = true
    error.value = null
    try {
      const q = { ...filters.value, limit } as F & { cursor?: string; limit: number }
      if (cursor.value) q.cursor = cursor.value
      const page = await load(q)
      items.value = page.items
      next.value = page.next_cursor
    } catch (e) {
      items.value = []
      next.value = ''
      error.value = e instanceof ApiError ? e : new ApiError(0, undefined)
    } finally {
      loading.value = false
    }
  }

  function clean(f: Record<string, string>) {
    const q: Record<string, string> = {}
    for (const [k, v] of Object.entries(f)) if (v !== '' && v !== undefined && v !== null) q[k] = String(v)
    return q
  }

  // search applies the filters from the first page.
  function search() {
    return router.push({ query: clean(filters.value) })
  }

  function reset() {
    filters.value = { ...defaults }
    return search()
  }

  function nextPage() {
    if (!next.value) return
    const t = [...trail.value, cursor.value || FIRST]
    return router.push({ query: { ...clean(filters.value), cursor: next.value, trail: t.join('~') } })
  }

  function prevPage() {
    const t = [...trail.value]
    if (!t.length) return
    const prev = t.pop() as string
    const q: Record<string, string> = clean(filters.value)
    if (prev !== FIRST) q.cursor = prev
    if (t.length) q.trail = t.join('~')
    return router.push({ query: q })
  }

  watch(
    () => route.query,
    (q) => {
      fromQuery(q)
      fetchPage()
    },
    { immediate: true },
  )

  const pageNo = computed(() => trail.value.length + 1)
  return { filters, items, next, loading, error, search, reset, nextPage, prevPage, reload: fetchPage, pageNo }
}

const FIRST = '^'

function str(v: unknown): string {
  if (Array.isArray(v)) return String(v[0] ?? '')
  return v == null ? '' : String(v)
}
