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
        // Chunks by library, so that a first visit loads Vue, the router and Element Plus only. A
        // group takes in what its modules import, groups of higher priority first: Vue goes first,
        // or the first library importing it would take it in (vue-echarts would take it into the
        // dashboard's ECharts chunk, and every page would load ECharts); then each lazily loaded
        // library with its own dependencies, so that they stay out of the chunks every page loads.
        codeSplitting: {
          groups: [
            { name: 'vendor', test: /node_modules[\\/](@vue|vue|vue-router)[\\/]/, priority: 50 },
            // ECharts goes with the dashboard only
            { name: 'echarts', test: /node_modules[\\/](echarts|zrender|vue-echarts)[\\/]/, priority: 40 },
            { name: 'qrcode', test: /node_modules[\\/]qrcode[\\/]/, priority: 30 },
            { name: 'element-plus', test: /node_modules[\\/](element-plus|@element-plus)[\\/]/, priority: 20 },
            { name: 'vendor', test: /node_modules[\\/]/, priority: 10 },
          ],
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
