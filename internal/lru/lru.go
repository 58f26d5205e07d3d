// Package lru is a least-recently-used cache bounded both by entry count and
// by the bytes its entries report. The decider keeps aggregates in one and
// the projector keeps threads and projects in one, so memory stays bounded
// however many threads the stream holds.
package lru

import (
	"container/list"
	"sync"
)

// Sizer is implemented by values that report their approximate memory.
type Sizer interface {
	Bytes() int64
}

// Cache is safe for concurrent use. Values are handed out as they are: the
// caller guards their contents.
type Cache[V Sizer] struct {
	mu         sync.Mutex
	maxEntries int
	maxBytes   int64
	bytes      int64
	order      *list.List // of *entry, most recent first
	byKey      map[string]*list.Element
}

type entry[V Sizer] struct {
	key   string
	value V
	bytes int64 // what was accounted for the value when last put
}

// New returns a cache holding at most maxEntries values and maxBytes bytes.
func New[V Sizer](maxEntries int, maxBytes int64) *Cache[V] {
	return &Cache[V]{maxEntries: maxEntries, maxBytes: maxBytes, order: list.New(), byKey: map[string]*list.Element{}}
}

// Get returns the value for key and marks it recently used.
func (c *Cache[V]) Get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry[V]).value, true
}

// Put stores or refreshes a value (its size may have changed) and evicts the
// least recently used values beyond the bounds. A value larger than the whole
// byte budget is not kept.
func (c *Cache[V]) Put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	size := v.Bytes()
	if el, ok := c.byKey[key]; ok {
		e := el.Value.(*entry[V])
		c.bytes += size - e.bytes
		e.value, e.bytes = v, size
		c.order.MoveToFront(el)
	} else {
		c.byKey[key] = c.order.PushFront(&entry[V]{key: key, value: v, bytes: size})
		c.bytes += size
	}
	for c.order.Len() > 0 && (c.order.Len() > c.maxEntries || c.bytes > c.maxBytes) {
		c.removeElement(c.order.Back())
	}
}

// Remove drops key.
func (c *Cache[V]) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.removeElement(el)
	}
}

func (c *Cache[V]) removeElement(el *list.Element) {
	e := el.Value.(*entry[V])
	c.order.Remove(el)
	delete(c.byKey, e.key)
	c.bytes -= e.bytes
}

// Len returns the number of values and their accounted bytes.
func (c *Cache[V]) Len() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len(), c.bytes
}
