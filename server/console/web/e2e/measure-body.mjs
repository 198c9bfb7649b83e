// recordBody is a tip or a visit log as the mini-program submits it, for the desk measurement.
export function recordBody(kind, title) {
  const body = {
    client_id: crypto.randomUUID(), title, occurred_at: new Date(Date.now() - 10 * 60000).toISOString(), place: '村委会',
    attachments: [],
  }
  if (kind === 'tip') {
    body.tip = { level: 'serious', kind: 'sign', people_involved: 8, groups_involved: '两家摊贩', description: '两家摊贩因摊位边界争吵,围观群众较多', ongoing: true }
  } else {
    body.visit = { visit_kind: 'home_visit', households: 5, people: 12, ethnicities: ['03', '01'], content: '入户走访,宣讲民族政策', follow_up_needed: false }
  }
  return body
}
