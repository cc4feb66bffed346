package benchkit

import (
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	t.Run("Odd", func(t *testing.T) {
		if got := Median([]float64{9, 1, 5}); got != 5 {
			t.Errorf("Median = %v, want 5", got)
		}
	})
	t.Run("Even", func(t *testing.T) {
		if got := Median([]float64{4, 1, 3, 2}); got != 2.5 {
			t.Errorf("Median = %v, want 2.5", got)
		}
	})
	t.Run("LeavesInputUnsorted", func(t *testing.T) {
		values := []float64{3, 1, 2}
		Median(values)
		if values[0] != 3 || values[1] != 1 || values[2] != 2 {
			t.Errorf("Median reordered its input: %v", values)
		}
	})
}

func TestPercentile(t *testing.T) {
	values := make([]float64, 0, 30)
	for i := 30; i >= 1; i-- {
		values = append(values, float64(i))
	}
	for _, tc := range []struct {
		p    float64
		want float64
	}{
		{90, 27}, // 27 of the 30 values are <= 27
		{50, 15},
		{100, 30},
		{1, 1},
	} {
		if got := Percentile(values, tc.p); got != tc.want {
			t.Errorf("Percentile(1..30, %v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := Percentile([]float64{7}, 90); got != 7 {
		t.Errorf("Percentile([7], 90) = %v, want 7", got)
	}
}

func TestPercentileOfDurations(t *testing.T) {
	ds := []time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond}
	if got := Percentile(ds, 50); got != 2*time.Millisecond {
		t.Errorf("Percentile(durations, 50) = %v, want 2ms", got)
	}
	if ds[0] != 3*time.Millisecond {
		t.Errorf("Percentile reordered its input: %v", ds)
	}
}
