import { ref } from 'vue'
import { api, unwrap } from './client'
import type { components } from './schema'

export type Dictionaries = components['schemas']['Dictionaries']
export type Code = components['schemas']['Code']

const dicts = ref<Dictionaries | null>(null)
let loading: Promise<Dictionaries> | null = null

// useDicts loads the code lists once per page load; they are the same for every user.
export function useDicts() {
  if (!dicts.value && !loading) {
    loading = unwrap(api.GET('/api/v1/dictionaries')).then((d) => {
      dicts.value = d
      return d
    })
    loading.catch(() => {
      loading = null
    })
  }
  return dicts
}

export function label(list: Code[] | undefined, code: string | undefined): string {
  if (!code) return ''
  return list?.find((c) => c.code === code)?.label ?? code
}
