// Photos taken or chosen on the phone, for records and task reports: compressed JPEG from
// wx.chooseMedia, compressed again when still large, then moved out of the temp folder so they
// outlive it while they wait in the outbox.
'use strict'
const {persistFile} = require('../outbox/outbox')

// On a 2G link (about 6 KB/s) a photo costs a second per 6 KB, and wx.uploadFile gives up after
// 60 s: a "compressed" photo above this size is compressed again before it is kept (see
// docs/field-conditions.md).
const PHOTO_TARGET_BYTES = 150 * 1024

/** Compresses a chosen photo further when it is large; resolves {tempFilePath, size}. */
function shrink(f) {
  if (!(f.size > PHOTO_TARGET_BYTES) || !wx.compressImage) return Promise.resolve({tempFilePath: f.tempFilePath, size: f.size})
  return new Promise(resolve => {
    wx.compressImage({
      src: f.tempFilePath,
      quality: 60,
      compressedWidth: 1280,
      success: r => {
        wx.getFileSystemManager().getFileInfo({
          filePath: r.tempFilePath,
          success: info => resolve({tempFilePath: r.tempFilePath, size: info.size}),
          fail: () => resolve({tempFilePath: r.tempFilePath, size: 0}),
        })
      },
      fail: () => resolve({tempFilePath: f.tempFilePath, size: f.size}), // the original still goes
    })
  })
}

/**
 * Lets the user take or choose up to `count` photos; resolves with [{path, type: 'image', size}]
 * (saved files), or [] when cancelled.
 */
function choosePhotos(count) {
  if (count <= 0) return Promise.resolve([])
  return new Promise(resolve => {
    wx.chooseMedia({
      count,
      mediaType: ['image'],
      sourceType: ['camera', 'album'],
      sizeType: ['compressed'], // JPEG, smaller, and HEIC is refused by the server
      success: r => {
        Promise.all(r.tempFiles.map(f => shrink(f).then(g => persistFile(g.tempFilePath).then(path => ({path, type: 'image', size: g.size})))))
          .then(resolve)
      },
      fail: () => resolve([]),
    })
  })
}

module.exports = {PHOTO_TARGET_BYTES, shrink, choosePhotos}
