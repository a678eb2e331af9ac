package dev.acdc.passes;

import dev.acdc.ir.Graph;
import dev.acdc.ir.Node;

import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/** Small graph edits the passes share. */
final class Rewrites {
    private Rewrites() {
    }

    /** Removes nodes none of whose outputs is read or is a graph output; repeats until stable. */
    static int removeDeadNodes(Graph g) {
        int removed = 0;
        boolean changed = true;
        while (changed) {
            changed = false;
            Set<String> used = new HashSet<>();
            for (Node n : g.nodes()) {
                used.addAll(n.inputs());
            }
            for (var v : g.outputs()) {
                used.add(v.name());
            }
            Iterator<Node> it = g.nodes().iterator();
            while (it.hasNext()) {
                Node n = it.next();
                boolean live = false;
                for (String o : n.outputs()) {
                    live |= used.contains(o);
                }
                if (!live) {
                    it.remove();
                    removed++;
                    changed = true;
                }
            }
        }
        g.removeUnusedInitializers();
        return removed;
    }

    /** Bypasses a single-input pass-through node: its readers read its input instead. */
    static boolean bypass(Graph g, Node n) {
        String out = n.output(0);
        if (g.isGraphOutput(out)) {
            return false;
        }
        for (int i = 1; i < n.outputs().size(); i++) {
            if (!n.output(i).isEmpty() && !g.consumers(n.output(i)).isEmpty()) {
                return false;
            }
        }
        g.replaceUses(out, n.input(0));
        g.nodes().remove(n);
        return true;
    }

    static List<Node> snapshot(Graph g) {
        return List.copyOf(g.nodes());
    }
}
