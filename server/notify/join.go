package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// Joining tip alerts. A robot takes 20 messages a minute; in a flood (a mass incident, 400 tips
// in 40 s to one county) alerts sent one per message would queue for minutes. When a tip alert
// gets its robot's slot while other tip alerts wait for the same robot, it takes them along: one
// message says how many there are and how urgent, lists the most urgent and newest titles and
// where to open them, and every row it covers is marked sent. The pacer's spacing (Pacer) gives
// the robot a slot every few seconds however long the flood, so no alert waits longer than that.
// The on-duty officers' subscribe messages are not joined: each tip still reaches them alone.

// joinKinds are the event kinds whose robot alerts may go out joined.
var joinKinds = []string{"tip.submitted", "tip.escalated"}

// joinMax bounds the rows one joined message covers; joinTitles how many titles it lists.
const (
	joinMax    = 500
	joinTitles = 10
)

var levelRank = map[string]int{"特别重大": 0, "重大": 1, "较大": 2, "一般": 3}

// joined is one tip alert covered by a joined message.
type joined struct {
	id    int64
	kind  string
	msg   Message
	level string
	at    time.Time
}

// waiting selects the tip alerts pending for n's robot group, other than n.
func (s *RobotSender) waiting(ctx context.Context, n *Notification) *gorm.DB {
	return s.db.WithContext(ctx).Model(&Notification{}).
		Where("status = ? AND channel = ? AND target_kind = ? AND target = ? AND event_kind IN ? AND id <> ?",
			StatusPending, ChannelRobot, TargetGroup, n.Target, joinKinds, n.ID)
}

// floodWaiting is how many other tip alerts must wait for a robot at once for its sends to be
// spaced: a flood. Fewer (two or three tips of a busy county in one poll) go out at once, joined
// or not, while the robot's minute has room, so that a busy county is not slowed by the spacing
// a flood needs.
const floodWaiting = 3

// flooded reports whether n is a tip alert that floodWaiting or more other tip alerts wait
// behind for the same robot group: then its send is spaced (Pacer) and takes them along.
func (s *RobotSender) flooded(ctx context.Context, n *Notification) bool {
	if !slices.Contains(joinKinds, n.EventKind) || s.joinLease <= 0 {
		return false
	}
	var ids []int64
	err := s.waiting(ctx, n).Limit(floodWaiting).Pluck("id", &ids).Error
	return err == nil && len(ids) >= floodWaiting
}

// claimWaiting takes the other tip alerts pending for n's robot group: a conditional UPDATE that
// leases them to this send, as Deliver claims rows, so another dispatcher cannot send them too.
// Their lease outlives the send: if this process dies before it records the outcome, they become
// due again when it ends and go out on their own.
func (s *RobotSender) claimWaiting(ctx context.Context, n *Notification, lease time.Duration) (string, []Notification, error) {
	var ids []int64
	err := s.waiting(ctx, n).Order("id").Limit(joinMax).Pluck("id", &ids).Error
	if err != nil || len(ids) == 0 {
		return "", nil, err
	}
	now := s.clock.Now()
	token := fmt.Sprintf("join#%d#%d", n.ID, now.UnixNano())
	until := now.Add(lease)
	if err := s.db.WithContext(ctx).Model(&Notification{}).Where("id IN ? AND status = ?", ids, StatusPending).
		Updates(map[string]any{"status": StatusSending, "lease_owner": token, "lease_until": until,
			"next_attempt_at": until, "updated_at": now}).Error; err != nil {
		return "", nil, err
	}
	var rows []Notification
	err = s.db.WithContext(ctx).Where("id IN ? AND lease_owner = ? AND status = ?", ids, token, StatusSending).
		Order("id").Find(&rows).Error
	return token, rows, err
}

// settleJoined records the outcome of a joined send for the rows it took along: sent, or handed
// back untouched (due at once) for their own attempt.
func (s *RobotSender) settleJoined(ctx context.Context, token string, sent bool) error {
	now := s.clock.Now()
	upd := map[string]any{"lease_owner": "", "lease_until": nil, "updated_at": now}
	if sent {
		upd["status"], upd["sent_at"], upd["last_error"], upd["error_code"] = StatusSent, now, "", 0
	} else {
		upd["status"], upd["next_attempt_at"] = StatusPending, now
	}
	// Several instances update notifications at once: MySQL may pick this statement as a
	// deadlock victim, and rows left leased would be sent again when their lease ends (a tip
	// alerted twice). Transact retries it.
	return database.Transact(context.WithoutCancel(ctx), s.db, func(tx *gorm.DB) error {
		return tx.Model(&Notification{}).Where("lease_owner = ? AND status = ?", token, StatusSending).Updates(upd).Error
	})
}

// joinMessage is one message for all the alerts: a count by level, then titles, the most urgent
// first and the newest first within a level, then where to open the rest.
func joinMessage(all []joined) Message {
	slices.SortFunc(all, func(a, b joined) int {
		return cmp.Or(cmp.Compare(rank(a.level), rank(b.level)), b.at.Compare(a.at), cmp.Compare(b.id, a.id))
	})
	count := map[string]int{}
	escalated := 0
	for _, j := range all {
		count[j.level]++
		if j.kind == "tip.escalated" {
			escalated++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**风险隐患预警汇总** <font color=\"warning\">%d 条待签收</font>\n", len(all))
	var parts []string
	for _, lv := range []string{"特别重大", "重大", "较大", "一般", "未定级"} {
		if count[lv] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d 条", lv, count[lv]))
		}
	}
	fmt.Fprintf(&b, "> %s", strings.Join(parts, "、"))
	if escalated > 0 {
		fmt.Fprintf(&b, "(其中上报 %d 条)", escalated)
	}
	b.WriteString("\n")
	for i, j := range all[:min(len(all), joinTitles)] {
		fmt.Fprintf(&b, "%d. 【%s】%s(%s,%s)\n", i+1, j.level, j.msg.Fields["title"], j.msg.Fields["region"], clock.Local(j.at).Format("15:04"))
	}
	if len(all) > joinTitles {
		fmt.Fprintf(&b, "另有 %d 条,", len(all)-joinTitles)
	}
	b.WriteString("请登录石榴平台线索台及时签收处置。")
	return Message{
		Title:    fmt.Sprintf("【线索汇总】%d 条风险隐患线索待签收", len(all)),
		Text:     b.String(),
		Markdown: true,
		Link:     "/tip-desk",
	}
}

func rank(level string) int {
	if r, ok := levelRank[level]; ok {
		return r
	}
	return len(levelRank)
}

// alertOf reads a tip alert row back as the joined message needs it.
func alertOf(n *Notification, msg Message) joined {
	at := n.CreatedAt
	if t, err := time.Parse(time.RFC3339, msg.Fields["time"]); err == nil {
		at = t
	}
	level := msg.Fields["level"]
	if level == "" {
		level = "未定级"
	}
	return joined{id: n.ID, kind: n.EventKind, msg: msg, level: level, at: at}
}

// join sends n's alert together with the others waiting for the same robot, if there are any.
// It answers false (and sends nothing) when none wait: n then goes alone, as any message.
func (s *RobotSender) join(ctx context.Context, g Group, n *Notification, msg Message, send func(Message) error) (bool, error) {
	if !slices.Contains(joinKinds, n.EventKind) || s.joinLease <= 0 {
		return false, nil
	}
	token, rows, err := s.claimWaiting(ctx, n, s.joinLease)
	if err != nil {
		// Joining is an optimisation of a flood; an alert must not wait for it.
		s.log.WarnContext(ctx, "could not gather the robot's waiting alerts; sending alone", "group_id", g.ID, "err", err)
		return false, nil
	}
	if len(rows) == 0 {
		return false, nil
	}
	all := []joined{alertOf(n, msg)}
	for i := range rows {
		var m Message
		if json.Unmarshal([]byte(rows[i].Content), &m) != nil {
			m = Message{Title: rows[i].Title, Fields: map[string]string{"title": rows[i].Title}}
		}
		all = append(all, alertOf(&rows[i], m))
	}
	err = send(joinMessage(all))
	if serr := s.settleJoined(ctx, token, err == nil); serr != nil {
		s.log.ErrorContext(ctx, "could not record the rows of a joined robot message; they are retried when their lease ends",
			"group_id", g.ID, "notification_id", n.ID, "err", serr)
	}
	if err == nil {
		s.log.InfoContext(ctx, "tip alerts joined into one robot message", "group_id", g.ID, "notification_id", n.ID, "joined", len(rows))
	}
	return true, err
}
