package fsstore

import "math/bits"

// hashTable maps keys to entry numbers by open addressing with linear
// probing. The keys themselves stay in the records (in the table's view);
// a slot holds 32 bits of the key's hash as a tag and the entry number + 1,
// so a lookup reads a record only when the tag matches. Entries are never
// removed. Not safe for concurrent use.
//
// It replaces Go maps in the index because it is much smaller (8 bytes a
// slot, no key copies), and first-touching memory is what opening a million
// records costs most.
type hashTable struct {
	slots []uint64
	count int
}

// maxLoad is the fill ratio at which the table doubles, as a fraction x/8.
const maxLoad = 6

func newHashTable(hint int) hashTable {
	return hashTable{slots: make([]uint64, max(16, hint*8/maxLoad+1))}
}

// probe walks the slots of one hash.
type probe struct {
	t    *hashTable
	s    int    // current slot
	prev int    // slot of the entry next returned last
	tag  uint32 // low 32 bits of the hash
}

func (t *hashTable) probe(h uint64) probe {
	hi, _ := bits.Mul64(h, uint64(len(t.slots))) // home slot from the high bits
	return probe{t: t, s: int(hi), tag: uint32(h)}
}

// next returns the next entry whose tag matches, or -1 when the probe
// reaches an empty slot, where it then stays (for insert).
func (p *probe) next() int32 {
	for {
		v := p.t.slots[p.s]
		if v == 0 {
			return -1
		}
		s := p.s
		if p.s++; p.s == len(p.t.slots) {
			p.s = 0
		}
		if uint32(v>>32) == p.tag {
			p.prev = s
			return int32(uint32(v)) - 1
		}
	}
}

// insert puts entry i in the empty slot the probe stopped at. The caller
// must grow the table first if full reports true.
func (p *probe) insert(i int32) {
	p.t.slots[p.s] = uint64(p.tag)<<32 | uint64(uint32(i+1))
	p.t.count++
}

// replace points the slot of the entry next returned last at entry i.
func (p *probe) replace(i int32) {
	p.t.slots[p.prev] = p.t.slots[p.prev]&^0xFFFFFFFF | uint64(uint32(i+1))
}

// full reports whether one more entry would pass the maximum load.
func (t *hashTable) full() bool { return (t.count+1)*8 > len(t.slots)*maxLoad }

// grow doubles the table; hashOf gives the hash of an entry's key.
func (t *hashTable) grow(hashOf func(i int32) uint64) {
	old := t.slots
	*t = hashTable{slots: make([]uint64, 2*len(old))}
	for _, v := range old {
		if v == 0 {
			continue
		}
		i := int32(uint32(v)) - 1
		p := t.probe(hashOf(i))
		for p.next() >= 0 {
		}
		p.insert(i)
	}
}
