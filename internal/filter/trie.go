package filter

// trie holds every field path that any filter references, below the "data" key.
// Node 0 is the data value itself. The record scanner keeps only values whose
// path is in the trie.
type trie struct {
	nodes []trieNode
}

type trieNode struct {
	names []string
	ids   []int32
	index map[string]int32 // built once a node has many children
}

// indexThreshold is the child count above which lookups use a map instead of a
// linear scan.
const indexThreshold = 8

func newTrie() trie {
	return trie{nodes: make([]trieNode, 1)}
}

// child returns the node for name below node, creating it if needed.
func (t *trie) child(node int32, name string) int32 {
	n := &t.nodes[node]
	for i, s := range n.names {
		if s == name {
			return n.ids[i]
		}
	}
	id := int32(len(t.nodes))
	n.names = append(n.names, name)
	n.ids = append(n.ids, id)
	if len(n.names) > indexThreshold {
		if n.index == nil {
			n.index = make(map[string]int32, len(n.names))
			for i, s := range n.names {
				n.index[s] = n.ids[i]
			}
		}
		n.index[name] = id
	}
	t.nodes = append(t.nodes, trieNode{})
	return id
}

// lookup returns the child of node named key, or -1.
func (t *trie) lookup(node int32, key []byte) int32 {
	n := &t.nodes[node]
	if n.index != nil {
		if id, ok := n.index[string(key)]; ok {
			return id
		}
		return -1
	}
	for i, s := range n.names {
		if s == string(key) {
			return n.ids[i]
		}
	}
	return -1
}

func (t *trie) hasChildren(node int32) bool {
	return len(t.nodes[node].names) > 0
}
