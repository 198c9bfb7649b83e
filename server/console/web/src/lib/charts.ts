// ECharts, as the dashboard uses it: only the parts it draws are imported (bars and lines on a
// grid, tooltip, legend, the aria description, the canvas renderer), so the dashboard's chunk is a
// fraction of the whole library; it is loaded with the dashboard only (vite.config.ts).
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import { BarChart, LineChart } from 'echarts/charts'
import { AriaComponent, GridComponent, LegendPlainComponent, TooltipComponent } from 'echarts/components'
import VChart from 'vue-echarts'

use([CanvasRenderer, BarChart, LineChart, GridComponent, TooltipComponent, LegendPlainComponent, AriaComponent])

export { VChart }
