import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The build is committed (../dist) and CI rebuilds it and compares, so it must be deterministic:
// content-hashed names, no timestamps, no absolute paths. No module preload polyfill: it would be
// an inline script, which the console's Content Security Policy forbids.
export default defineConfig({
  plugins: [vue()],
  base: '/',
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        manualChunks(id: string) {
          if (id.includes('node_modules/element-plus') || id.includes('node_modules/@element-plus')) return 'element-plus'
          if (id.includes('node_modules/qrcode')) return 'qrcode'
          // ECharts goes with the dashboard only, not into the vendor chunk every page loads
          if (/node_modules\/(echarts|zrender|vue-echarts)\//.test(id)) return 'echarts'
          if (id.includes('node_modules/')) return 'vendor'
          return undefined
        },
      },
    },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.ts'],
    // jsdom and Element Plus are slow to start on a busy 2-core machine
    testTimeout: 30000,
  },
} as any)
