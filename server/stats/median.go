package stats

import (
	"math"
	"slices"
	"time"
)

// Durations (time to acknowledge, to resolve) are counted in buckets, so that a median over a
// province and a year reads a few hundred aggregate rows instead of every tip. Bounds are in
// minutes; each bucket is at most a quarter wider than its lower bound (exact minutes below ten),
// and the median is interpolated inside its bucket.
var bucketBounds = func() []int64 {
	var b []int64
	for m := int64(0); m < 10; m++ {
		b = append(b, m)
	}
	b = append(b, 10, 12, 15, 18, 20, 25, 30, 35, 40, 45, 50, 60, 75, 90, 105, 120, 150, 180, 210, 240, 300, 360, 420,
		480, 600, 720, 840, 960, 1200)
	const day = 1440
	for _, d := range []float64{1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 10, 12, 14, 17, 21, 25, 30, 35, 40, 45,
		50, 60, 75, 90, 105, 120, 150, 180, 210, 240, 300, 365} {
		b = append(b, int64(d*day))
	}
	return b
}()

// bucketOf is the lower bound in minutes of the bucket of d; negative durations (clock skew
// between instances) count as zero.
func bucketOf(d time.Duration) int64 {
	m := int64(d / time.Minute)
	i, found := slices.BinarySearch(bucketBounds, m)
	if !found {
		i--
	}
	return bucketBounds[max(i, 0)]
}

// bucketWidth is the width in minutes of the bucket starting at lower; the last one is taken to
// be as wide as the one before it.
func bucketWidth(lower int64) int64 {
	i, found := slices.BinarySearch(bucketBounds, lower)
	switch {
	case !found:
		return 1
	case i+1 < len(bucketBounds):
		return bucketBounds[i+1] - lower
	}
	return lower - bucketBounds[i-1]
}

// median of a histogram (bucket lower bound → count) in minutes, interpolated linearly inside the
// bucket that holds the middle; nil when empty.
func median(h map[int64]int64) *float64 {
	var total int64
	bounds := make([]int64, 0, len(h))
	for b, n := range h {
		if n > 0 {
			bounds = append(bounds, b)
			total += n
		}
	}
	if total == 0 {
		return nil
	}
	slices.Sort(bounds)
	mid := float64(total) / 2
	var below int64
	for _, b := range bounds {
		n := h[b]
		if float64(below+n) >= mid {
			v := float64(b) + float64(bucketWidth(b))*(mid-float64(below))/float64(n)
			v = math.Round(v*10) / 10
			return &v
		}
		below += n
	}
	return nil
}
