package dev.acdc.runtime.calibration;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.acdc.AcdcException;
import dev.acdc.analysis.Segments;
import dev.acdc.ir.Graph;
import dev.acdc.ir.Model;
import dev.acdc.ir.Node;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.runtime.DirectFloats;
import dev.acdc.runtime.Sessions;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The calibration images' activations at one cut point ({@link Segments#cutPoints}) of the original network
 * and of the network as compressed so far, kept in memory so that the output fit runs each set's passes from
 * the latest cut before it instead of from the images: the passes over a network of S sets cost about one
 * forward per set in the set's own block rather than S/2 forwards of the whole network.
 * <p>
 * Valid because every set changes only weights after the cut its statistics were taken from: the frontier
 * moves forward by running the segment between two cuts on the current weights, and when a later request
 * needs an earlier cut it starts again from the images. A cut whose two activation copies would take more
 * than the memory cap is not used (the images always are: no copy).
 */
final class ActivationFrontier {
    /** One value's activations for a batch: [batch, ...] row-major; valid only while the batch's consumer runs. */
    record Activation(float[] data, long[] shape) {
    }

    /**
     * One batch of a {@link #forEach} pass: {@code n} real images, the first being calibration image {@code start}
     * (the rest of the batch repeats the last).
     */
    record Batch(int start, int n, Map<String, Activation> original, Map<String, Activation> work) {
    }

    interface BatchConsumer {
        void accept(Batch b);
    }

    private final Model orig;
    private final Model work;
    private final CalibrationImages images;
    private final int step;
    private final long cap;
    private final String input;
    /** Usable cuts in topological order, each with the index of the node computing it (the input: −1). */
    private final Map<String, Integer> cutIndex = new LinkedHashMap<>();
    private final Map<String, long[]> cutShapes = new HashMap<>();
    private final Map<String, Integer> producer = new HashMap<>();
    private String cut;
    private float[] origAct;
    private float[] workAct;
    private long moves;
    /** The native copies of each network's batch, kept across passes: one of each per frontier, not per pass. */
    private final DirectFloats origInput = new DirectFloats();
    private final DirectFloats workInput = new DirectFloats();

    /**
     * {@code work} has the same nodes as {@code orig} (by position and value names); {@code capBytes}: the most
     * the two copies at a cut may take.
     */
    ActivationFrontier(Model orig, Model work, CalibrationImages images, String input, int step, long capBytes) {
        this.orig = orig;
        this.work = work;
        this.images = images;
        this.step = step;
        this.cap = capBytes;
        this.input = input;
        Graph g = orig.graph();
        List<Node> nodes = g.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            for (String v : nodes.get(i).outputs()) {
                producer.put(v, i);
            }
        }
        producer.put(input, -1);
        List<String> cuts = Segments.cutPoints(g);
        Map<String, long[]> shapes = cuts.isEmpty() ? Map.of() : Segments.shapes(orig, cuts);
        cutIndex.put(input, -1);
        for (String c : cuts) {
            long[] s = shapes.get(c);
            if (c.equals(input) || s == null || s.length < 1) {
                continue;
            }
            long per = 1;
            for (int i = 1; i < s.length; i++) {
                per = s[i] > 0 ? per * s[i] : -1;
                if (per < 0) {
                    break;
                }
            }
            if (per > 0 && 2L * 4L * per * images.count() <= cap) {
                cutIndex.put(c, producer.getOrDefault(c, Integer.MAX_VALUE));
                cutShapes.put(c, s);
            }
        }
        reset();
    }

    /** The cut the frontier is at. */
    String cut() {
        return cut;
    }

    /** How many times the frontier has moved (forward or back to the images). */
    long moves() {
        return moves;
    }

    private void reset() {
        cut = input;
        origAct = images.x();
        workAct = images.x();
    }

    /** The latest usable cut that every value of {@code needed} is computed at or after. */
    String cutFor(Collection<String> needed) {
        int first = Integer.MAX_VALUE;
        for (String v : needed) {
            Integer p = producer.get(v);
            if (p == null) {
                return input;
            }
            first = Math.min(first, p);
        }
        String best = input;
        for (Map.Entry<String, Integer> e : cutIndex.entrySet()) {
            if (e.getValue() <= first) {
                best = e.getKey();
            }
        }
        return best;
    }

    /**
     * Runs every calibration batch through both networks from the latest cut before the requested values
     * (moving the frontier there first), giving {@code origValues} of the original and {@code workValues} of
     * the compressed network.
     */
    void forEach(Collection<String> origValues, Collection<String> workValues, BatchConsumer body) {
        Set<String> all = new HashSet<>(origValues);
        all.addAll(workValues);
        String target = cutFor(all);
        if (!target.equals(cut) && cutIndex.get(target) < cutIndex.get(cut)) {
            reset();
            moves++;
        }
        if (!target.equals(cut)) {
            advance(target);
            moves++;
        }
        pass(List.copyOf(origValues), List.copyOf(workValues), body);
    }

    private void advance(String target) {
        int per = perImage(target);
        float[] o = new float[images.count() * per];
        float[] w = new float[images.count() * per];
        pass(List.of(target), List.of(target), null, o, w, per, target);
        cut = target;
        origAct = o;
        workAct = w;
    }

    private int perImage(String c) {
        if (c.equals(input)) {
            return images.perSample();
        }
        long[] s = cutShapes.get(c);
        long per = 1;
        for (int i = 1; i < s.length; i++) {
            per *= s[i];
        }
        return Math.toIntExact(per);
    }

    private void pass(List<String> origValues, List<String> workValues, BatchConsumer body) {
        pass(origValues, workValues, body, null, null, 0, null);
    }

    /** One pass over the images from the frontier; with {@code into} set, stores value {@code into} instead. */
    private void pass(List<String> origValues, List<String> workValues, BatchConsumer body, float[] oInto,
                      float[] wInto, int perInto, String into) {
        int per = perImage(cut);
        long[] shape = new long[cutShapes.containsKey(cut) ? cutShapes.get(cut).length : images.sampleShape().length + 1];
        if (cutShapes.containsKey(cut)) {
            System.arraycopy(cutShapes.get(cut), 1, shape, 1, shape.length - 1);
        } else {
            System.arraycopy(images.sampleShape(), 0, shape, 1, shape.length - 1);
        }
        shape[0] = step;
        List<String> oRun = origValues.stream().filter(v -> !v.equals(cut)).distinct().toList();
        List<String> wRun = workValues.stream().filter(v -> !v.equals(cut)).distinct().toList();
        try (Sessions.Opened os = oRun.isEmpty() ? null : Sessions.open(fromCut(orig, oRun), Sessions.Config.cpu(), x -> { });
             Sessions.Opened ws = wRun.isEmpty() ? null : Sessions.open(fromCut(work, wRun), Sessions.Config.cpu(), x -> { })) {
            float[] ob = new float[step * per];
            float[] wb = new float[step * per];
            for (int start = 0; start < images.count(); start += step) {
                int n = Math.min(step, images.count() - start);
                for (int k = 0; k < step; k++) {
                    int src = (start + Math.min(k, n - 1)) * per;
                    System.arraycopy(origAct, src, ob, k * per, per);
                    System.arraycopy(workAct, src, wb, k * per, per);
                }
                Map<String, Activation> oa = new LinkedHashMap<>(os == null ? Map.of() : run(os.session(), cut, ob, shape, origInput));
                Map<String, Activation> wa = new LinkedHashMap<>(ws == null ? Map.of() : run(ws.session(), cut, wb, shape, workInput));
                if (origValues.contains(cut)) {
                    oa.put(cut, new Activation(ob, shape.clone()));
                }
                if (workValues.contains(cut)) {
                    wa.put(cut, new Activation(wb, shape.clone()));
                }
                if (into != null) {
                    System.arraycopy(oa.get(into).data(), 0, oInto, start * perInto, n * perInto);
                    System.arraycopy(wa.get(into).data(), 0, wInto, start * perInto, n * perInto);
                } else {
                    body.accept(new Batch(start, n, oa, wa));
                }
            }
        }
    }

    /** {@code m} from the frontier's cut to {@code outputs}: the nodes they need after the cut, the cut as input. */
    private byte[] fromCut(Model m, List<String> outputs) {
        if (cut.equals(input)) {
            return ActivationModels.exposing(m, outputs);
        }
        Graph g = m.graph();
        Set<String> need = new HashSet<>(outputs);
        List<Node> keep = new ArrayList<>();
        List<Node> nodes = g.nodes();
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (n.outputs().stream().anyMatch(need::contains)) {
                keep.add(0, n);
                for (String v : n.inputs()) {
                    if (!v.equals(cut)) {
                        need.add(v);
                    }
                }
            }
        }
        if (need.contains(input)) {
            throw new IllegalStateException("values " + outputs + " are not all after cut " + cut);
        }
        Model part = Segments.extract(m, new Segments.Segment(cut, outputs.get(0), keep), cutShapes.get(cut));
        part.graph().outputs().clear();
        for (String v : outputs) {
            part.graph().outputs().add(new dev.acdc.ir.ValueInfo(v, dev.acdc.ir.DataType.FLOAT, null, null));
        }
        return OnnxModels.toBytes(part);
    }

    static Map<String, Activation> run(OrtSession s, String name, float[] x, long[] shape, DirectFloats direct) {
        try (OnnxTensor t = direct.tensor(x, 0, x.length, shape);
             OrtSession.Result r = s.run(Map.of(name, t))) {
            Map<String, Activation> out = new LinkedHashMap<>();
            for (Map.Entry<String, OnnxValue> e : r) {
                OnnxTensor v = (OnnxTensor) e.getValue();
                out.put(e.getKey(), new Activation(DirectFloats.floats(v), v.getInfo().getShape()));
            }
            return out;
        } catch (OrtException e) {
            throw new AcdcException("ONNX Runtime failed during the output fit: "
                    + e.getMessage().lines().findFirst().orElse(""));
        }
    }
}
