package meeting

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/validate"
)

// tokenWindow is how long one check-in token is shown. A token is accepted in its own window and
// the next one, so it works for 30 to 60 seconds: long enough to scan, too short to forward.
const tokenWindow = 30 * time.Second

// CheckinKey derives the key of check-in tokens from the token secret, so that the key signing
// access tokens is not used for anything else.
func CheckinKey(tokenSecret string) []byte {
	m := hmac.New(sha256.New, []byte(tokenSecret))
	m.Write([]byte("shiliu meeting check-in tokens v1"))
	return m.Sum(nil)
}

func window(t time.Time) int64 { return t.Unix() / int64(tokenWindow/time.Second) }

func windowStart(w int64) time.Time { return time.Unix(w*int64(tokenWindow/time.Second), 0).UTC() }

func (s *Service) tokenMAC(meetingID, w int64) string {
	m := hmac.New(sha256.New, s.opt.CheckinKey)
	fmt.Fprintf(m, "meeting:%d:%d", meetingID, w)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

func (s *Service) token(meetingID int64, now time.Time) (string, int64) {
	w := window(now)
	return strconv.FormatInt(w, 10) + "." + s.tokenMAC(meetingID, w), w
}

var (
	errTokenInvalid = apperr.New(http.StatusForbidden, "checkin_token_invalid", "签到码无效,请扫描例会现场的签到二维码").
			WithField("token", "签到码无效")
	errTokenExpired = apperr.New(http.StatusForbidden, "checkin_token_expired", "签到码已过期,请重新扫描现场大屏上的二维码").
			WithField("token", "签到码已过期")
)

// checkToken accepts a token of this meeting from the current or the previous window (and the
// next one, which only a server whose clock runs a little ahead can have issued).
func (s *Service) checkToken(meetingID int64, token string, now time.Time) error {
	ws, mac, ok := strings.Cut(strings.TrimSpace(token), ".")
	w, err := strconv.ParseInt(ws, 10, 64)
	if !ok || err != nil || len(mac) > 64 || !hmac.Equal([]byte(mac), []byte(s.tokenMAC(meetingID, w))) {
		return errTokenInvalid
	}
	cur := window(now)
	switch {
	case w > cur+1:
		return errTokenInvalid
	case w < cur-1:
		return errTokenExpired
	}
	return nil
}

// CheckinToken issues the token of the current window for the organizer's screen.
func (s *Service) CheckinToken(ctx context.Context, p *access.Principal, id int64) (CheckinTokenView, error) {
	if err := requireOrganizer(p); err != nil {
		return CheckinTokenView{}, err
	}
	m, _, err := s.load(s.db.WithContext(ctx), p, id)
	if err != nil {
		return CheckinTokenView{}, err
	}
	now := s.clock.Now()
	if m.Status == StatusCancelled {
		return CheckinTokenView{}, errCancelled
	}
	if !now.Before(m.EndsAt) {
		return CheckinTokenView{}, errEnded
	}
	tok, w := s.token(m.ID, now)
	return CheckinTokenView{
		MeetingID: m.ID, Token: tok,
		QRPayload: fmt.Sprintf("shiliu://meetings/%d/checkin?token=%s", m.ID, tok),
		ExpiresAt: clock.Local(windowStart(w + 2)), RefreshAt: clock.Local(windowStart(w + 1)),
	}, nil
}

// CheckinInput is a check-in: the scanned token, or where the phone is.
type CheckinInput struct {
	Token     string
	Latitude  *float64
	Longitude *float64
	// Accuracy is the phone's own estimate, in meters (wx.getLocation's accuracy).
	Accuracy *float64
}

// Checkin records an invitee's arrival, once: checking in again returns the first check-in.
func (s *Service) Checkin(ctx context.Context, p *access.Principal, id int64, in CheckinInput) (View, error) {
	if !p.IsInstructor() {
		return View{}, errInviteeOnly
	}
	in.Token = strings.TrimSpace(in.Token)
	var v validate.Checker
	switch {
	case in.Token != "":
		v.MaxLen("token", "签到码", in.Token, 100)
	case in.Latitude == nil && in.Longitude == nil:
		v.Fail("token", "请扫描签到二维码,或提供当前位置(latitude、longitude)")
	case in.Latitude == nil:
		v.Fail("latitude", "经度和纬度应同时提供")
	case in.Longitude == nil:
		v.Fail("longitude", "经度和纬度应同时提供")
	default:
		v.Check(*in.Latitude >= -90 && *in.Latitude <= 90, "latitude", "纬度应在-90到90之间")
		v.Check(*in.Longitude >= -180 && *in.Longitude <= 180, "longitude", "经度应在-180到180之间")
		if in.Accuracy != nil {
			v.Check(*in.Accuracy >= 0 && *in.Accuracy <= 100000, "accuracy", "定位精度应在0到100000米之间")
		}
	}
	if err := v.Err(); err != nil {
		return View{}, err
	}
	db := s.db.WithContext(ctx)
	m, inv, err := s.load(db, p, id)
	if err != nil {
		return View{}, err
	}
	now := s.clock.Now()
	if inv.CheckedInAt != nil {
		return s.view(ctx, p, m, inv, now), nil
	}
	opens := m.StartsAt.Add(-s.opt.CheckinOpensBefore)
	switch {
	case m.Status == StatusCancelled:
		return View{}, errCancelled
	case !now.Before(m.EndsAt):
		return View{}, apperr.New(http.StatusConflict, "meeting_ended", "例会已结束,不能再签到")
	case now.Before(opens):
		return View{}, apperr.New(http.StatusConflict, "checkin_not_open",
			fmt.Sprintf("签到尚未开始,将于%s开放", clock.Local(opens).Format("1月2日15:04")))
	}
	method := CheckinQR
	var distance, accuracy *int
	var lat, lng *float64
	if in.Token != "" {
		if err := s.checkToken(m.ID, in.Token, now); err != nil {
			return View{}, err
		}
	} else {
		if m.Latitude == nil || m.Longitude == nil {
			return View{}, apperr.New(http.StatusConflict, "checkin_location_unavailable",
				"该例会没有设置地点坐标,请扫描现场的签到二维码").WithField("latitude", "该例会不支持定位签到")
		}
		d := haversine(*m.Latitude, *m.Longitude, *in.Latitude, *in.Longitude)
		if d > s.opt.CheckinRadius {
			return View{}, apperr.New(http.StatusForbidden, "checkin_too_far",
				fmt.Sprintf("您距离例会地点约%d米,超出%d米的签到范围,请到达会场后再签到或扫码签到", int(math.Round(d)), int(s.opt.CheckinRadius))).
				WithField("latitude", "不在签到范围内")
		}
		method = CheckinLocation
		meters := int(math.Round(d))
		distance, lat, lng = &meters, in.Latitude, in.Longitude
		if in.Accuracy != nil {
			a := int(math.Round(*in.Accuracy))
			accuracy = &a
		}
	}
	res := db.Model(&Invitee{}).Where("id = ? AND checked_in_at IS NULL", inv.ID).
		Updates(map[string]any{"checked_in_at": now, "checkin_method": method, "checkin_distance": distance,
			"checkin_latitude": lat, "checkin_longitude": lng, "checkin_accuracy": accuracy})
	if res.Error != nil {
		return View{}, res.Error
	}
	// Whether this request or a concurrent retry won, the stored check-in is the answer.
	if err := db.Where("id = ?", inv.ID).Take(inv).Error; err != nil {
		return View{}, err
	}
	return s.view(ctx, p, m, inv, now), nil
}

// haversine is the great-circle distance in meters between two points. Both must be in the same
// datum: the API asks for GCJ-02, what wx.getLocation({type: 'gcj02'}) and Tencent Maps give;
// mixing in WGS-84 would shift a point by several hundred meters in China.
func haversine(lat1, lng1, lat2, lng2 float64) float64 {
	const r = 6371008.8 // mean Earth radius
	rad := math.Pi / 180
	dLat, dLng := (lat2-lat1)*rad, (lng2-lng1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}
