import { reactive, ref } from 'vue'
import { ApiError } from '../api/client'

// useFieldErrors holds the API's field errors (details) by field name, for el-form-item's error
// prop, and the error as a whole for the message above the form.
export function useFieldErrors() {
  const fields = reactive<Record<string, string>>({})
  const error = ref<ApiError | null>(null)

  function clear() {
    for (const k of Object.keys(fields)) delete fields[k]
    error.value = null
  }

  function show(e: unknown) {
    clear()
    const err = e instanceof ApiError ? e : new ApiError(0, undefined)
    error.value = err
    for (const d of err.details) fields[d.field] = d.message
  }

  // run calls fn and shows what the API refused; it returns whether fn succeeded.
  async function run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    clear()
    try {
      return await fn()
    } catch (e) {
      show(e)
      return undefined
    }
  }

  return { fields, error, clear, show, run }
}

// safeRedirect is where to go after logging in: a path inside the console, never another site
// ("//evil.example" is a URL of another host).
export function safeRedirect(q: unknown): string {
  return typeof q === 'string' && q.startsWith('/') && !q.startsWith('//') && !q.startsWith('/\\') ? q : '/'
}
