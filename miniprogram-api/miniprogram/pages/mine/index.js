// Mine: account, reminders (subscribe messages), what the outbox holds, logout.
const {getClient} = require('../../api/client')
const {getOutbox} = require('../../outbox/outbox')
const {isStaff, goLogin} = require('../../utils/nav')
const {requestSubscribe, staffTipTemplates} = require('../../utils/subscribe')
const {formatBytes} = require('../../utils/bytes')

const ROLES = {instructor: '指导员', county_staff: '县级民族工作部门', city_staff: '市级民族工作部门', province_staff: '省民族事务委员会', admin: '系统管理员'}

Component({
  data: {user: null, roleName: '', staff: false, counts: {queued: 0, failed: 0, draft: 0}, storage: ''},
  methods: {
    onLoad() {
      this.onShow()
    },
    onShow() {
      const user = getClient().user() || {}
      let storage = ''
      try {
        const info = wx.getStorageInfoSync()
        storage = formatBytes(info.currentSize * 1024) + ' / ' + formatBytes(info.limitSize * 1024)
      } catch (e) {
        storage = ''
      }
      this.setData({user, roleName: ROLES[user.role] || '', staff: isStaff(user), counts: getOutbox().counts(), storage})
    },
    onSubscribe() {
      // Staff: the tip alerts of their level (escalated tips for city and province staff).
      const names = this.data.staff ? staffTipTemplates(this.data.user) : ['tip_acknowledged', 'record_returned', 'sentiment_answered']
      return requestSubscribe(names).then(r => {
        wx.showToast({title: r ? '设置成功' : '暂未配置提醒', icon: 'none'})
      })
    },
    /** Meeting notices and new tasks (at most 3 templates a tap, as WeChat allows). */
    onSubscribeWork() {
      return requestSubscribe(['meeting_scheduled', 'meeting_reminder', 'task_assigned']).then(r => {
        wx.showToast({title: r ? '设置成功' : '暂未配置提醒', icon: 'none'})
      })
    },
    /** Training notices and the county's answers to my suggestions. */
    onSubscribeTraining() {
      return requestSubscribe(['training_enrolled', 'training_reminder', 'suggestion_answered']).then(r => {
        wx.showToast({title: r ? '设置成功' : '暂未配置提醒', icon: 'none'})
      })
    },
    onLogout() {
      const c = getOutbox().counts()
      const waiting = c.queued + c.sending
      return new Promise(resolve => {
        wx.showModal({
          title: '退出登录?',
          content: waiting ? '还有' + waiting + '条记录未上传,它们会保留在手机上,重新登录后继续上传。' : '',
          confirmText: '退出',
          success: r => {
            if (!r.confirm) return resolve()
            getClient().logout().then(() => {
              goLogin()
              resolve()
            })
          },
        })
      })
    },
  },
})
