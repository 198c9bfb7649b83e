package httpapi

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/platform/database"
)

// replicaRoute reports whether a GET route is a list, an export or a statistic, whose reads may
// go to a read replica: a collection (no path parameter), an .xlsx export, or under /stats/.
// The caller's own account (/me…) and the tip stream stay on the primary.
func replicaRoute(path string) bool {
	switch {
	case strings.HasSuffix(path, ".xlsx"), strings.HasPrefix(path, "/api/v1/stats/"):
		return true
	case strings.HasPrefix(path, "/api/v1/me"), path == "/api/v1/tips/stream":
		return false
	}
	return path != "" && !strings.Contains(path, ":")
}

// replicaReads sends the reads of lists, exports and statistics to a read replica, except for an
// account that wrote within the read-your-writes window (marked after each of its writes): its
// reads stay on the primary, so an instructor's list always holds the record just sent. Without
// replicas, or when the marks cannot be read, everything reads from the primary.
func (h *handlers) replicaReads() gin.HandlerFunc {
	return func(c *gin.Context) {
		r, p := h.replicas, principal(c)
		if r == nil || p == nil {
			c.Next()
			return
		}
		ctx := c.Request.Context()
		switch c.Request.Method {
		case http.MethodGet, http.MethodHead:
			if !replicaRoute(c.FullPath()) {
				break
			}
			if r.Marks != nil {
				recent, err := r.Marks.Recent(ctx, p.AccountID)
				if err != nil || recent {
					break
				}
			}
			c.Request = c.Request.WithContext(database.ReadFromReplica(ctx))
		default:
			c.Next()
			if r.Marks != nil && c.Writer.Status() < http.StatusBadRequest {
				if err := r.Marks.Mark(ctx, p.AccountID); err != nil {
					h.log.WarnContext(ctx, "read-your-writes mark not stored: this account's next lists may miss its write for a few seconds", "err", err)
				}
			}
			return
		}
		c.Next()
	}
}
