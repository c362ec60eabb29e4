package decoder

// lruLinks are the links a member of an lruList embeds.
type lruLinks[T any] struct {
	prev, next *T
	linked     bool
}

// lruList is a doubly linked list kept in order of last activity, so that the
// idle members are found at its head. It is intrusive (members embed
// lruLinks) so that moving a member on every packet allocates nothing.
// links returns a member's links.
type lruList[T any] struct {
	head, tail *T
	links      func(*T) *lruLinks[T]
}

// pushBack appends x, which must not be in a list.
func (l *lruList[T]) pushBack(x *T) {
	lx := l.links(x)
	lx.prev, lx.next, lx.linked = l.tail, nil, true
	if l.tail != nil {
		l.links(l.tail).next = x
	} else {
		l.head = x
	}
	l.tail = x
}

// remove takes x out of the list; it does nothing if x is not in one.
func (l *lruList[T]) remove(x *T) {
	lx := l.links(x)
	if !lx.linked {
		return
	}
	if lx.prev != nil {
		l.links(lx.prev).next = lx.next
	} else {
		l.head = lx.next
	}
	if lx.next != nil {
		l.links(lx.next).prev = lx.prev
	} else {
		l.tail = lx.prev
	}
	lx.prev, lx.next, lx.linked = nil, nil, false
}

// moveToBack marks x as the most recently active member, adding it if needed.
func (l *lruList[T]) moveToBack(x *T) {
	if l.tail == x {
		return
	}
	l.remove(x)
	l.pushBack(x)
}
