// A TCP proxy between the phone (the real client over http-wx) and `shiliu serve`, on 127.0.0.1.
//
// Two uses:
//  - Faults (the integration test): for each connection, `decide(info)` picks what happens to it —
//      none           forwarded as is
//      delay          every chunk held back `ms` (both ways)
//      throttle       both ways at `bytesPerSec`
//      stall          nothing forwarded; the phone waits until its own timeout
//      cut-request    the request cut after `fraction` of its body (the server never gets it whole)
//      cut-response   the whole request reaches the server, which processes it and answers; the
//                     connection to the phone is cut after `keep` bytes of the answer (0: none), so
//                     the phone never learns the outcome
//  - A shaped link (the field measurement): every byte crosses one simulated link per direction
//    with a bandwidth, a one-way delay and segment loss; see createLink.
//
// The proxy reads just enough HTTP to know each exchange: the request line and Content-Length,
// and the status line of the answer. Each connection carries one exchange (http-wx closes them).
// Stats per connection are kept in `proxy.log`.
'use strict'
const net = require('net')

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed) {
  let a = seed >>> 0
  return function () {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * A simulated link, one per direction, shared by every connection (a phone has one radio).
 * Bytes are cut into segments of `mss`; each costs (size + 40 bytes of TCP/IP headers) / bandwidth
 * on the link, then arrives `delayMs` later. A segment is lost with probability `loss`: it is sent
 * again (costing the link again) and arrives late — by one round trip when enough data follows it
 * for the sender to notice (fast retransmit), by `rtoMs` when it is among the last three segments
 * of a burst (a tail loss waits for the retransmission timer).
 * @param {object} o
 * @param {number} o.bytesPerSec
 * @param {number} o.delayMs one-way delay
 * @param {number} [o.loss]
 * @param {number} [o.mss]
 * @param {number} [o.rtoMs]
 * @param {() => number} [o.random]
 */
function createLink(o) {
  const mss = o.mss || 1400
  const loss = o.loss || 0
  const rto = o.rtoMs || 1000
  const random = o.random || Math.random
  let nextFree = 0
  const stats = {segments: 0, lost: 0, payloadBytes: 0, wireBytes: 0}
  return {
    stats,
    /**
     * Schedules `buf` and calls deliver(chunk) for each segment in order; `order` is per connection;
     * `after` is how many bytes of the same message are still to come (for telling tail losses).
     */
    send(buf, order, deliver, after) {
      const n = Math.ceil(buf.length / mss)
      const rest = Math.ceil((after || 0) / mss)
      for (let i = 0; i < n; i++) {
        const seg = buf.subarray(i * mss, Math.min(buf.length, (i + 1) * mss))
        const tx = (seg.length + 40) / o.bytesPerSec * 1000
        const now = Date.now()
        const start = Math.max(now, nextFree)
        nextFree = start + tx
        let arrival = start + tx + o.delayMs
        stats.segments++
        stats.payloadBytes += seg.length
        stats.wireBytes += seg.length + 40
        if (random() < loss) {
          stats.lost++
          stats.wireBytes += seg.length + 40
          nextFree += tx // sent again
          arrival += (n - i + rest <= 3 ? rto : 2 * o.delayMs) + tx
        }
        arrival = Math.max(arrival, order.last)
        order.last = arrival
        setTimeout(() => deliver(seg), Math.max(0, arrival - now))
      }
    },
    /** Time to set up a connection: a round trip, plus the SYN's or SYN-ACK's timer when lost. */
    handshakeMs() {
      let ms = 2 * o.delayMs + 2 * 40 / o.bytesPerSec * 1000
      stats.wireBytes += 3 * 40
      for (let i = 0; i < 2; i++) {
        if (random() < loss) ms += 1000 // Linux's initial retransmission timeout
      }
      return ms
    },
  }
}

/**
 * @param {object} o
 * @param {number} o.targetPort
 * @param {string} [o.targetHost]
 * @param {(info:{index:number, method:string, path:string}) => object} [o.decide] fault per connection
 * @param {{up: object, down: object} | (() => ({up: object, down: object} | null))} [o.link] shaped links
 *   (createLink), phone→server and back; a function is asked for each new connection (null: unshaped)
 */
function createProxy(o) {
  const host = o.targetHost || '127.0.0.1'
  const log = []
  let index = 0
  const sockets = new Set()

  const server = net.createServer(client => {
    const link = typeof o.link === 'function' ? o.link() : o.link
    const entry = {index: index++, method: '', path: '', fault: 'none', reqBytes: 0, reqTotal: 0, resBytes: 0, resTotal: 0, forwardedReq: 0, deliveredRes: 0,
      status: 0, answered: false, delivered: false, cut: '', startedAt: Date.now(), endedAt: 0}
    log.push(entry)
    sockets.add(client)
    const upstream = net.connect({host, port: o.targetPort})
    sockets.add(upstream)
    let fault = null
    let head = Buffer.alloc(0)
    let reqLimit = Infinity
    const upOrder = {last: 0}
    const downOrder = {last: 0}
    let clientClosed = false
    let upstreamEnded = false
    let ready = Promise.resolve()

    if (link) {
      const ms = link.up.handshakeMs()
      ready = new Promise(r => setTimeout(r, ms))
    }

    const closeAll = why => {
      if (why && !entry.cut) entry.cut = why
      entry.endedAt = entry.endedAt || Date.now()
      client.destroy()
      upstream.destroy()
    }

    /** phone → server */
    const forwardUp = chunk => {
      if (fault.name === 'stall') return
      let c = chunk
      if (entry.forwardedReq + c.length > reqLimit) c = c.subarray(0, Math.max(0, reqLimit - entry.forwardedReq))
      entry.forwardedReq += c.length
      const write = part => {
        if (!upstream.destroyed) upstream.write(part)
      }
      if (link) link.up.send(c, upOrder, write, Math.max(0, entry.reqTotal - entry.forwardedReq))
      else later(fault, upOrder, c.length, () => write(c))
      if (entry.forwardedReq >= reqLimit) {
        // wait for what was sent to reach the server, then cut both ways
        const at = Math.max(Date.now(), upOrder.last) + 20
        setTimeout(() => closeAll('request cut after ' + entry.forwardedReq + ' of ' + entry.reqBytes + '+ bytes'), at - Date.now())
      }
    }

    client.on('data', chunk => {
      entry.reqBytes += chunk.length
      if (!fault) {
        head = Buffer.concat([head, chunk])
        const end = head.indexOf('\r\n\r\n')
        if (end < 0 && head.length < 16384) return
        const headers = head.subarray(0, end < 0 ? head.length : end).toString('latin1')
        const line = headers.split('\r\n')[0].split(' ')
        entry.method = line[0]
        entry.path = (line[1] || '').replace(/\?.*$/, '')
        const len = Number((/\r\ncontent-length:\s*(\d+)/i.exec(headers) || [])[1] || 0)
        entry.reqTotal = end + 4 + len
        fault = (o.decide && o.decide(entry)) || {name: 'none'}
        entry.fault = fault.name
        if (fault.name === 'cut-request') reqLimit = end + 4 + Math.floor(len * (fault.fraction === undefined ? 0.5 : fault.fraction))
        const first = head
        head = null
        ready.then(() => forwardUp(first))
        return
      }
      ready.then(() => forwardUp(chunk))
    })

    /** server → phone */
    upstream.on('data', chunk => {
      if (!entry.answered) {
        entry.answered = true
        const head = chunk.toString('latin1', 0, Math.min(chunk.length, 4096))
        entry.status = Number((/^HTTP\/1\.[01] (\d{3})/.exec(head) || [])[1] || 0)
        const end = head.indexOf('\r\n\r\n')
        const len = /\r\ncontent-length:\s*(\d+)/i.exec(head)
        entry.resTotal = end >= 0 && len ? end + 4 + Number(len[1]) : 0
      }
      entry.resBytes += chunk.length
      if (clientClosed) return
      let c = chunk
      if (fault.name === 'cut-response') {
        const keep = fault.keep || 0
        const room = keep - (entry.resBytes - chunk.length)
        if (room <= 0) return closeAll('answer cut after ' + keep + ' bytes')
        if (c.length >= room) {
          c = c.subarray(0, room)
          const send = () => {
            if (!client.destroyed) client.write(c, () => closeAll('answer cut after ' + keep + ' bytes'))
          }
          return later(fault, downOrder, c.length, send)
        }
      }
      const write = part => {
        if (client.destroyed) return
        client.write(part, () => {
          entry.deliveredRes += part.length
          // the whole answer (by its Content-Length, else up to the server's end) is with the phone
          if (!entry.delivered && ((entry.resTotal && entry.deliveredRes >= entry.resTotal) || (entry.deliveredRes === entry.resBytes && upstreamEnded))) {
            entry.delivered = true
            entry.endedAt = Date.now()
          }
          if (entry.deliveredRes === entry.resBytes && upstreamEnded) client.end()
        })
      }
      if (link) link.down.send(c, downOrder, part => write(part), Math.max(0, entry.resTotal - entry.resBytes))
      else later(fault, downOrder, c.length, () => write(c))
    })
    upstream.on('end', () => {
      upstreamEnded = true
      if (fault && fault.name === 'cut-response') return
      if (entry.resBytes === 0 || entry.deliveredRes === entry.resBytes) {
        if (!entry.delivered && entry.resBytes > 0) {
          entry.delivered = true
          entry.endedAt = Date.now()
        }
        client.end()
      }
    })
    client.on('close', () => {
      clientClosed = true
      entry.endedAt = entry.endedAt || Date.now()
      if (!entry.delivered && !entry.cut) entry.cut = 'the phone closed the connection'
      upstream.destroy()
      sockets.delete(client)
    })
    upstream.on('close', () => sockets.delete(upstream))
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
  })

  /** Delay / throttle without a shaped link, keeping the order of one direction. */
  function later(fault, order, bytes, fn) {
    const now = Date.now()
    let at = now
    if (fault.name === 'delay') at = now + (fault.ms || 500)
    if (fault.name === 'throttle') at = Math.max(now, order.last) + bytes / (fault.bytesPerSec || 16384) * 1000
    at = Math.max(at, order.last)
    order.last = at
    if (at <= now) return fn()
    setTimeout(fn, at - now)
  }

  return {
    log,
    listen() {
      return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(server.address().port)))
    },
    close() {
      sockets.forEach(s => s.destroy())
      return new Promise(resolve => server.close(() => resolve()))
    },
  }
}

module.exports = {createProxy, createLink, rng}
