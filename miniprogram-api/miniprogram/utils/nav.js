// Page navigation helpers: where a user goes after login, by role.
'use strict'

const HOME = '/pages/home/index'
const LOGIN = '/pages/login/index'

function isStaff(user) {
  return !!user && ['county_staff', 'city_staff', 'province_staff', 'admin'].indexOf(user.role) >= 0
}

function goHome() {
  wx.reLaunch({url: HOME})
}

function goLogin(reason) {
  wx.reLaunch({url: LOGIN + (reason ? '?reason=' + encodeURIComponent(reason) : '')})
}

module.exports = {HOME, LOGIN, isStaff, goHome, goLogin}
