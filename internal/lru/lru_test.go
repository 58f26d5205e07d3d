package lru_test

import (
	"testing"

	"github.com/peonhq/peon/internal/lru"
)

type blob int64

func (b blob) Bytes() int64 { return int64(b) }

func TestEvictsByCountAndBytes(t *testing.T) {
	c := lru.New[blob](3, 100)
	c.Put("a", 10)
	c.Put("b", 10)
	c.Put("c", 10)
	c.Get("a") // a is now the most recent
	c.Put("d", 10)
	if _, ok := c.Get("b"); ok {
		t.Fatal("b should be evicted first (count bound)")
	}
	c.Put("e", 85) // 10 (a) + 10 (d) + ... over 100 bytes: evict from the back
	n, bytes := c.Len()
	if bytes > 100 || n < 1 {
		t.Fatalf("len %d bytes %d", n, bytes)
	}
	if _, ok := c.Get("e"); !ok {
		t.Fatal("the newest entry was evicted")
	}
	c.Put("e", 200) // larger than the budget: not kept
	if n, bytes := c.Len(); n != 0 || bytes != 0 {
		t.Fatalf("after oversized put: len %d bytes %d", n, bytes)
	}
}

func TestPutRefreshesSize(t *testing.T) {
	c := lru.New[blob](10, 100)
	c.Put("a", 10)
	c.Put("a", 60)
	if _, bytes := c.Len(); bytes != 60 {
		t.Fatalf("bytes %d", bytes)
	}
	c.Remove("a")
	if n, bytes := c.Len(); n != 0 || bytes != 0 {
		t.Fatalf("after remove: %d %d", n, bytes)
	}
}
