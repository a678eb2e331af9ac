package dev.acdc.cli;

import dev.acdc.AcdcException;
import dev.acdc.data.DataSpec;
import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.runtime.ModelIO;
import dev.acdc.runtime.OrtTeacher;
import dev.acdc.runtime.Sessions;
import dev.acdc.runtime.Validator;
import dev.acdc.train.Nd4jSetup;
import dev.acdc.train.StopSignal;
import dev.acdc.train.Trainer;
import dev.acdc.train.TrainOptions;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs a fine-tune for the CLI: ORT teacher, progress, per-epoch evaluation; returns the report section. */
final class FineTuning {
    private FineTuning() {
    }

    /** Teacher and student must take the same input and give the same number of outputs. */
    static void checkCompatible(Model student, ModelIO teacher) {
        long[] s = student.graph().dataInputs().get(0).shape();
        long[] t = teacher.inputShape();
        boolean same = s != null && s.length == t.length;
        for (int i = 1; same && i < s.length; i++) {
            same = s[i] < 0 || t[i] < 0 || s[i] == t[i];
        }
        if (!same) {
            throw new AcdcException("teacher input " + java.util.Arrays.toString(t) + " and student input "
                    + java.util.Arrays.toString(s) + " differ");
        }
        long[] so = dev.acdc.ir.ShapeInference.infer(student).get(student.graph().outputs().get(0).name()).shape();
        long[] to = teacher.outputShape();
        if (to.length > 0 && so[so.length - 1] > 0 && to[to.length - 1] > 0 && so[so.length - 1] != to[to.length - 1]) {
            throw new AcdcException("teacher gives " + to[to.length - 1] + " outputs per image, the student "
                    + so[so.length - 1]);
        }
    }

    /**
     * Fine-tunes {@code student}. Ctrl-C (SIGINT) stops it at the end of the current step with a checkpoint
     * in --checkpoint DIR, or else beside {@code out} ({@code OUT.checkpoint/}), and the command exits with 130.
     */
    static Map<String, Object> run(Model student, byte[] teacherBytes, String trainSpec, String evalSpec,
                                   Preprocessing pre, TrainCliOptions cli, DataOptions d, PrintWriter err,
                                   java.nio.file.Path out) {
        TrainOptions o = teacherBytes == null ? cli.options().labelsOnly() : cli.options();
        if (cli.resume && cli.checkpoint == null) {
            throw new AcdcException("--resume needs --checkpoint DIR");
        }
        Nd4jSetup.init();
        Sessions.Config cfg = d.sessions();
        try (Dataset train = DataSpec.open(trainSpec);
             Dataset eval = evalSpec == null ? null : DataSpec.open(evalSpec);
             OrtTeacher ortTeacher = teacherBytes == null ? null
                     : new OrtTeacher(teacherBytes, cfg, msg -> err.println("acdc: " + msg))) {
            if (train.size() == 0) {
                throw new AcdcException("the training data set is empty");
            }
            dev.acdc.train.Teacher teacher;
            if (ortTeacher != null) {
                checkCompatible(student, ortTeacher.io());
                teacher = ortTeacher;
            } else {
                if (!train.hasLabels()) {
                    throw new AcdcException("training without a teacher needs labels, and " + train.describe()
                            + " has none");
                }
                long[] so = dev.acdc.ir.ShapeInference.infer(student).get(student.graph().outputs().get(0).name()).shape();
                int classes = (int) so[so.length - 1];
                teacher = (x, n, shape) -> new float[n * classes]; // unused: the distillation weight is 0
            }
            err.println("acdc: " + (ortTeacher == null ? "training (cross-entropy on labels)" : "fine-tuning") + " on "
                    + train.describe() + "; " + o.epochs() + " epochs, batch " + o.batch()
                    + ", " + o.optimizer() + " lr " + o.lr() + " (" + o.schedule().name().toLowerCase().replace('_', '-')
                    + "), T " + o.temperature() + ", training " + o.train() + " weights");
            boolean[] started = {false};
            long[] lastLine = {0};
            Trainer.Evaluator evaluator = eval == null ? null : m -> {
                try (ModelIO io = new ModelIO(OnnxModels.toBytes(m), cfg, s -> { })) {
                    return Validator.top1(io, eval, pre, d.batchSize);
                }
            };
            List<Map<String, Object>> curve = new ArrayList<>();
            StopSignal stop = new StopSignal(cli.checkpoint != null ? cli.checkpoint
                    : CompressCommand.siblingWithSuffix(out, ".checkpoint"));
            Trainer.Result r;
            Interrupts.Handler onCtrlC = Interrupts.onSigint(() -> {
                stop.request();
                err.println();
                err.println("acdc: Ctrl-C: stopping after this step and writing a checkpoint (Ctrl-C again quits "
                        + "without one)");
                err.flush();
            });
            try {
                r = train(student, teacher, train, pre, o, evaluator, cli, err, curve, started, lastLine, stop);
            } finally {
                onCtrlC.close();
            }
            return report(r, train, eval, o, curve);
        }
    }

    private static Trainer.Result train(Model student, dev.acdc.train.Teacher teacher, Dataset train, Preprocessing pre,
                                        TrainOptions o, Trainer.Evaluator evaluator, TrainCliOptions cli,
                                        PrintWriter err, List<Map<String, Object>> curve, boolean[] started,
                                        long[] lastLine, StopSignal stop) {
        return Trainer.train(student, teacher, train, pre, o, evaluator, new Trainer.Listener() {
            @Override
            public void step(int step, int total, int epoch, double loss, double gradNorm, double ips) {
                if (!started[0]) {
                    err.println("acdc: ND4J backend " + Nd4jSetup.describe());
                    started[0] = true;
                }
                long now = System.nanoTime();
                if (now - lastLine[0] > 2_000_000_000L || step == total) {
                    lastLine[0] = now;
                    double eta = (total - step) * (o.batch() / Math.max(ips, 1e-9));
                    err.printf("acdc: epoch %d step %d/%d loss %.4f |grad| %.3g %.0f img/s ETA %s%n", epoch, step,
                            total, loss, gradNorm, ips, ProgressBar.duration(eta));
                    err.flush();
                }
            }

            @Override
            public void epoch(Trainer.EpochRecord rec) {
                curve.add(rec.json());
                err.printf("acdc: epoch %d: loss %.4f%s (%.0f s)%s%n", rec.epoch(), rec.loss(),
                        Double.isNaN(rec.evalTop1()) ? "" : String.format(", eval top-1 %.2f %%", 100 * rec.evalTop1()),
                        rec.seconds(), rec.best() ? " *" : "");
                err.flush();
            }
        }, cli.checkpoint, cli.resume, stop);
    }

    private static Map<String, Object> report(Trainer.Result r, Dataset train, Dataset eval, TrainOptions o,
                                              List<Map<String, Object>> curve) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("backend", r.backend());
        j.put("trainData", train.describe());
        j.put("evalData", eval == null ? null : eval.describe());
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("epochs", o.epochs());
        s.put("maxSteps", o.maxSteps());
        s.put("batch", o.batch());
        s.put("lr", o.lr());
        s.put("optimizer", o.optimizer());
        s.put("momentum", o.momentum());
        s.put("weightDecay", o.weightDecay());
        s.put("schedule", o.schedule().name().toLowerCase());
        s.put("temperature", o.temperature());
        s.put("kdWeight", o.kdWeight());
        s.put("ceWeight", o.ceWeight());
        s.put("augment", o.augment());
        s.put("train", o.train());
        s.put("seed", o.seed());
        s.put("batchNorm", o.batchNorm() ? "train" : "folded");
        j.put("settings", s);
        j.put("epochs", curve);
        j.put("bestEpoch", r.bestEpoch());
        j.put("steps", r.steps());
        j.put("seconds", r.seconds());
        j.put("imagesPerSecond", r.imagesPerSecond());
        return j;
    }
}
