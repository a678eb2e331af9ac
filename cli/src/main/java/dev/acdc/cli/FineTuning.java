package dev.acdc.cli;

import dev.acdc.data.Dataset;
import dev.acdc.data.Preprocessing;
import dev.acdc.ir.Model;
import dev.acdc.runtime.workflow.FineTuneJob;
import dev.acdc.runtime.workflow.OutputFiles;
import dev.acdc.train.StopSignal;

import java.io.PrintWriter;
import java.nio.file.Path;

/** The fine-tune job's settings from the command's options, and the job run with them (finetune, train). */
final class FineTuning {
    private FineTuning() {
    }

    /**
     * The settings for training on {@code trainAll} (sampled by --train-limit/--limit, cropped by
     * --train-crop) and reporting on {@code evalAll} (may be null; sampled by --limit). Ctrl-C stops the
     * training at the end of its step with a checkpoint in --checkpoint DIR, or else beside {@code out}
     * ({@code OUT.checkpoint/}), and the command exits with 130.
     */
    static FineTuneJob.Settings settings(Dataset trainAll, Dataset evalAll, Preprocessing pre, TrainCliOptions cli,
                                         DataOptions d, Path out) {
        if (trainAll.size() == 0) {
            throw new dev.acdc.AcdcException("the training data set is empty");
        }
        Dataset pool = d.sample(cli.trainingCrops(trainAll, d.geometry()), "training", null);
        Dataset eval = evalAll == null ? null : d.sample(evalAll, "evaluation", null);
        StopSignal stop = new StopSignal(cli.checkpoint != null ? cli.checkpoint
                : OutputFiles.siblingWithSuffix(out, ".checkpoint"));
        return new FineTuneJob.Settings(pool, eval, pre, cli.options(), cli.selectSplit, d.sampleSeed, d.sessions(),
                d.batchSize, cli.checkpoint, cli.resume, stop);
    }

    /** Fine-tunes {@code student} ({@code teacherBytes} null: on the labels alone); returns the job's outcome. */
    static FineTuneJob.Outcome run(Model student, byte[] teacherBytes, String trainSpec, String evalSpec,
                                   Preprocessing pre, TrainCliOptions cli, DataOptions d, PrintWriter err, Path out) {
        try (Dataset trainAll = d.open(trainSpec);
             Dataset evalAll = evalSpec == null ? null : d.open(evalSpec)) {
            FineTuneJob.Settings s = settings(trainAll, evalAll, pre, cli, d, out);
            return FineTuneJob.run(student, teacherBytes, s, new CliListener(err).batch(s.options().batch()));
        }
    }
}
