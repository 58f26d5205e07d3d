package decider

import (
	"container/list"
	"sync"
)

// cache keeps the most recently used aggregates, bounded by count and by
// approximate bytes. It is safe for concurrent use; the aggregates in it are
// not, and are guarded by the per-key locks in locks.
type cache struct {
	mu         sync.Mutex
	maxEntries int
	maxBytes   int64
	bytes      int64
	lru        *list.List // of *aggregate, most recent first
	byKey      map[string]*list.Element
}

func newCache(maxEntries int, maxBytes int64) *cache {
	return &cache{maxEntries: maxEntries, maxBytes: maxBytes, lru: list.New(), byKey: map[string]*list.Element{}}
}

func (c *cache) get(key string) (*aggregate, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*aggregate), true
}

// put stores or refreshes an aggregate (its size may have grown) and evicts
// the least recently used ones beyond the bounds.
func (c *cache) put(a *aggregate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[a.key]; ok {
		old := el.Value.(*aggregate)
		c.bytes -= old.cachedBytes
		el.Value = a
		c.lru.MoveToFront(el)
	} else {
		c.byKey[a.key] = c.lru.PushFront(a)
	}
	a.cachedBytes = a.bytes
	c.bytes += a.bytes
	for c.lru.Len() > 1 && (c.lru.Len() > c.maxEntries || c.bytes > c.maxBytes) {
		c.removeElement(c.lru.Back())
	}
	if c.lru.Len() == 1 && c.bytes > c.maxBytes {
		c.removeElement(c.lru.Back()) // one aggregate larger than the whole budget is not kept
	}
}

func (c *cache) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.removeElement(el)
	}
}

func (c *cache) removeElement(el *list.Element) {
	a := el.Value.(*aggregate)
	c.lru.Remove(el)
	delete(c.byKey, a.key)
	c.bytes -= a.cachedBytes
}

// stats returns the number of cached aggregates and their approximate bytes.
func (c *cache) stats() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.bytes
}

// keyLocks serialises the work on one aggregate within this instance, so
// two commands for one thread never fold into the same cached state at once.
// Instances are kept apart by JetStream's expectations instead.
type keyLocks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	refs int
}

func newKeyLocks() *keyLocks { return &keyLocks{locks: map[string]*keyLock{}} }

func (k *keyLocks) lock(key string) func() {
	k.mu.Lock()
	l, ok := k.locks[key]
	if !ok {
		l = &keyLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
