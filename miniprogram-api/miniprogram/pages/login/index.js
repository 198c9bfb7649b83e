// Login: WeChat one-tap login; on first use, binding to the roster with an invite code or the
// phone number WeChat holds; staff log in with their password.
const {getClient} = require('../../api/client')
const {goHome} = require('../../utils/nav')

Component({
  data: {
    step: 'start', // start | bind | staff
    busy: false,
    error: '',
    notice: '',
    bindTicket: '',
    inviteCode: '',
    inviteError: '',
    username: '',
    password: '',
  },
  methods: {
    onLoad(options) {
      if (options && options.reason) this.setData({notice: decodeURIComponent(options.reason)})
      if (getClient().isLoggedIn()) goHome()
    },

    onShowStaff() {
      this.setData({step: 'staff', error: ''})
    },
    onShowStart() {
      this.setData({step: 'start', error: ''})
    },

    onWechatLogin() {
      if (this.data.busy) return Promise.resolve()
      this.setData({busy: true, error: ''})
      return getClient().wechatLogin().then(r => {
        if (r.tokens) {
          this.setData({busy: false})
          goHome()
          return
        }
        this.setData({busy: false, step: 'bind', bindTicket: r.bindTicket})
      }, e => this.setData({busy: false, error: e.message}))
    },

    onInvite(e) {
      this.setData({inviteCode: String(e.detail || '').toUpperCase(), inviteError: ''})
    },

    onBindInvite() {
      const code = this.data.inviteCode.trim()
      if (!/^[2-9A-HJKMNP-Z]{8}$/i.test(code)) {
        this.setData({inviteError: '邀请码为8位字母或数字,请核对'})
        return Promise.resolve()
      }
      return this.bind({inviteCode: code})
    },

    onPhone(e) {
      const d = e.detail || {}
      if (!d.code) {
        this.setData({error: '未获得手机号授权。您也可以使用邀请码绑定。'})
        return Promise.resolve()
      }
      return this.bind({phoneCode: d.code})
    },

    bind(how) {
      if (this.data.busy) return Promise.resolve()
      this.setData({busy: true, error: ''})
      return getClient().bind(this.data.bindTicket, how).then(() => {
        this.setData({busy: false})
        wx.showToast({title: '绑定成功', icon: 'success'})
        goHome()
      }, e => {
        if (e.code === 'bind_ticket_invalid') {
          // the ticket lives 15 minutes: start over
          this.setData({busy: false, step: 'start', bindTicket: '', error: '绑定等待时间过长,请重新点击“微信一键登录”'})
          return
        }
        this.setData({busy: false, error: e.fullMessage || e.message})
      })
    },

    /** Not on the roster yet: nominate oneself, with this WeChat login's bind ticket. */
    onNominate() {
      wx.navigateTo({url: '/pages/nominate/index?ticket=' + encodeURIComponent(this.data.bindTicket)})
    },

    onUsername(e) {
      this.setData({username: e.detail})
    },
    onPassword(e) {
      this.setData({password: e.detail})
    },
    onStaffLogin() {
      const {username, password} = this.data
      if (!username.trim() || !password) {
        this.setData({error: '请输入用户名和密码'})
        return Promise.resolve()
      }
      this.setData({busy: true, error: ''})
      return getClient().passwordLogin(username.trim(), password).then(() => {
        this.setData({busy: false, password: ''})
        return this.offerWeChatLink()
      }, e => this.setData({busy: false, error: e.message}))
    },
    // Staff who link this WeChat get tip alerts as WeChat messages and log in without the
    // password next time. Asked, not done silently: a phone may be borrowed. Whatever happens, the
    // officer is logged in and goes on.
    offerWeChatLink() {
      return new Promise(resolve => {
        wx.showModal({
          title: '绑定微信',
          content: '绑定本微信后,风险线索提醒会通过微信消息送达您,下次也可直接用微信登录。',
          confirmText: '绑定',
          cancelText: '暂不',
          success: r => resolve(!!r.confirm),
          fail: () => resolve(false),
        })
      }).then(yes => yes && getClient().linkWeChat().then(
        () => wx.showToast({title: '已绑定微信', icon: 'success'}),
        e => wx.showToast({title: e.message, icon: 'none', duration: 3000})))
        .then(goHome)
    },
  },
})
