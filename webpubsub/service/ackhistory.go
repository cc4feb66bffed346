package service

// maxAckHistory is how many processed ackIds a connection remembers for
// duplicate detection.
const maxAckHistory = 4096

// ackHistory remembers the most recent ackIds a connection has processed
// successfully, so a resent request is answered "Duplicate" instead of
// being executed twice.
type ackHistory struct {
	seen  map[uint64]bool
	order []uint64 // a ring of the ids in seen, oldest at next
	next  int
}

// has reports whether id was processed.
func (h *ackHistory) has(id uint64) bool { return h.seen[id] }

// add records id, forgetting the oldest id once maxAckHistory are kept.
func (h *ackHistory) add(id uint64) {
	if h.seen == nil {
		h.seen = map[uint64]bool{}
	}
	if h.seen[id] {
		return
	}
	if len(h.order) < maxAckHistory {
		h.order = append(h.order, id)
	} else {
		delete(h.seen, h.order[h.next])
		h.order[h.next] = id
		h.next = (h.next + 1) % maxAckHistory
	}
	h.seen[id] = true
}
