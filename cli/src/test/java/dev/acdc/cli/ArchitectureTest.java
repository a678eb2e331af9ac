package dev.acdc.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packages of every module's main sources, as the sources say (imports and qualified names, comments
 * left out): no package cycle, and the library core (module compressor) refers to no package of the
 * modules above it. A cycle names its packages and one class of each edge, so the fix is where to look.
 */
class ArchitectureTest {
    private static final String[] MODULES = {"compressor", "testmodels", "train", "runtime", "cli"};
    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern REFERENCE = Pattern.compile("\\b(dev\\.acdc(?:\\.[a-z][a-z0-9]*)*)\\.[A-Z]");

    /** Package → the packages its classes refer to → one class that does. */
    private static Map<String, Map<String, String>> graph(Map<String, String> moduleOf) throws IOException {
        Path root = CliTest.testdata().getParent();
        Map<String, Map<String, String>> edges = new TreeMap<>();
        for (String module : MODULES) {
            Path src = root.resolve(module).resolve("src/main/java");
            List<Path> files;
            try (Stream<Path> s = Files.walk(src)) {
                files = s.filter(p -> p.toString().endsWith(".java")).toList();
            }
            for (Path f : files) {
                String text = Files.readString(f);
                Matcher pm = PACKAGE.matcher(text);
                assertTrue(pm.find(), f + " has no package");
                String pkg = pm.group(1);
                moduleOf.put(pkg, module);
                String code = text.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "");
                Matcher m = REFERENCE.matcher(code);
                Map<String, String> out = edges.computeIfAbsent(pkg, k -> new TreeMap<>());
                while (m.find()) {
                    if (!m.group(1).equals(pkg)) {
                        out.putIfAbsent(m.group(1), f.getFileName().toString());
                    }
                }
            }
        }
        return edges;
    }

    @Test
    void noPackageCycleAndNoUpwardDependency() throws IOException {
        Map<String, String> moduleOf = new HashMap<>();
        Map<String, Map<String, String>> edges = graph(moduleOf);
        assertTrue(edges.size() > 20, "read the packages: " + edges.keySet());
        List<String> cycles = new ArrayList<>();
        for (Set<String> scc : components(edges)) {
            if (scc.size() > 1) {
                StringBuilder b = new StringBuilder(String.join(" <-> ", scc)).append(':');
                for (String p : scc) {
                    edges.get(p).forEach((q, cls) -> {
                        if (scc.contains(q)) {
                            b.append(' ').append(p).append(" -> ").append(q).append(" (").append(cls).append(')');
                        }
                    });
                }
                cycles.add(b.toString());
            }
        }
        assertEquals(List.of(), cycles, "package cycles");
        List<String> upward = new ArrayList<>();
        edges.forEach((p, out) -> out.forEach((q, cls) -> {
            if ("compressor".equals(moduleOf.get(p)) && moduleOf.containsKey(q)
                    && !"compressor".equals(moduleOf.get(q))) {
                upward.add(p + " -> " + q + " (" + cls + ")");
            }
        }));
        assertEquals(List.of(), upward, "the library core refers to a module above it");
    }

    /**
     * The training engine stays behind the train module: no main source of runtime or cli names an ND4J or
     * JavaCPP class, so those modules run without it (WithoutTrainingEngineTest) and its dependency is optional
     * below the command line.
     */
    @Test
    void onlyTheTrainModuleNamesTheTrainingEngine() throws IOException {
        Path root = CliTest.testdata().getParent();
        Pattern engine = Pattern.compile("\\borg\\.(nd4j|bytedeco)\\.");
        List<String> found = new ArrayList<>();
        for (String module : new String[] {"compressor", "runtime", "cli"}) {
            try (Stream<Path> s = Files.walk(root.resolve(module).resolve("src/main/java"))) {
                for (Path f : s.filter(p -> p.toString().endsWith(".java")).toList()) {
                    String code = Files.readString(f).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "");
                    if (engine.matcher(code).find()) {
                        found.add(module + ": " + f.getFileName());
                    }
                }
            }
        }
        assertEquals(List.of(), found, "ND4J named outside the train module");
        String runtimePom = Files.readString(root.resolve("runtime/pom.xml"));
        Matcher nd4j = Pattern.compile("(?s)<dependency>\\s*<groupId>org\\.nd4j</groupId>.*?</dependency>").matcher(runtimePom);
        while (nd4j.find()) {
            assertTrue(nd4j.group().contains("<scope>test</scope>"), "runtime depends on ND4J for its tests only: "
                    + nd4j.group());
        }
        String trainPom = Files.readString(root.resolve("train/pom.xml"));
        Matcher t = Pattern.compile("(?s)<dependency>\\s*<groupId>org\\.nd4j</groupId>.*?</dependency>").matcher(trainPom);
        int optional = 0;
        while (t.find()) {
            assertTrue(t.group().contains("<optional>true</optional>"), "train's ND4J is optional: " + t.group());
            optional++;
        }
        assertTrue(optional >= 1, "train declares ND4J");
    }

    /** Tarjan's strongly connected components. */
    private static List<Set<String>> components(Map<String, Map<String, String>> edges) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<Set<String>> out = new ArrayList<>();
        for (String v : edges.keySet()) {
            if (!index.containsKey(v)) {
                visit(v, edges, index, low, stack, onStack, out);
            }
        }
        return out;
    }

    private static void visit(String v, Map<String, Map<String, String>> edges, Map<String, Integer> index,
                              Map<String, Integer> low, Deque<String> stack, Set<String> onStack,
                              List<Set<String>> out) {
        index.put(v, index.size());
        low.put(v, index.get(v));
        stack.push(v);
        onStack.add(v);
        for (String w : edges.getOrDefault(v, Map.of()).keySet()) {
            if (!index.containsKey(w)) {
                visit(w, edges, index, low, stack, onStack, out);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> c = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                c.add(w);
            } while (!w.equals(v));
            out.add(c);
        }
    }
}
