package dev.acdc.cli;

import dev.acdc.runtime.workflow.JobListener;
import dev.acdc.train.EpochRecord;
import dev.acdc.train.StopSignal;

import java.io.PrintWriter;

/**
 * How the commands show a job's progress on standard error: "acdc: …" lines (each a safe point for
 * Ctrl-C), a training line at most every 2 s with an ETA, one line per epoch, a bar per validation.
 */
final class CliListener implements JobListener {
    private final PrintWriter err;
    private long lastStepLine;
    private int batch = 1;
    private ProgressBar bar;

    CliListener(PrintWriter err) {
        this.err = err;
    }

    /** The training batch size, for the ETA. */
    CliListener batch(int b) {
        this.batch = b;
        return this;
    }

    @Override
    public void note(String line) {
        Interrupts.checkpoint();
        err.println("acdc: " + dev.acdc.util.Text.printable(line));
        err.flush();
    }

    @Override
    public void checkpoint() {
        Interrupts.checkpoint();
    }

    @Override
    public void trainingStep(int step, int total, int epoch, double loss, double gradNorm, double ips) {
        long now = System.nanoTime();
        if (now - lastStepLine > 2_000_000_000L || step == total) {
            lastStepLine = now;
            double eta = (total - step) * (batch / Math.max(ips, 1e-9));
            err.printf("acdc: epoch %d step %d/%d loss %.4f |grad| %.3g %.0f img/s ETA %s%n", epoch, step,
                    total, loss, gradNorm, ips, ProgressBar.duration(eta));
            err.flush();
        }
    }

    @Override
    public void epoch(EpochRecord rec) {
        err.printf("acdc: epoch %d: loss %.4f%s%s (%.0f s)%s%n", rec.epoch(), rec.loss(),
                Double.isNaN(rec.selectTop1()) ? "" : String.format(", selection top-1 %.2f %%",
                        100 * rec.selectTop1()),
                Double.isNaN(rec.evalTop1()) ? "" : String.format(", eval top-1 %.2f %%", 100 * rec.evalTop1()),
                rec.seconds(), rec.best() ? " (kept so far)" : "");
        err.flush();
    }

    /** While training runs, Ctrl-C asks it to stop after its step and write a checkpoint. */
    @Override
    public Scope training(StopSignal stop) {
        Interrupts.Handler onCtrlC = Interrupts.onSigint(() -> {
            stop.request();
            err.println();
            err.println("acdc: Ctrl-C: stopping after this step and writing a checkpoint (Ctrl-C again quits "
                    + "without one)");
            err.flush();
        });
        return onCtrlC::close;
    }

    @Override
    public void validated(int done, int total) {
        if (bar == null) {
            bar = new ProgressBar(err, "validate");
        }
        bar.update(done, total);
        if (done >= total) {
            bar = null; // the next validation gets a bar of its own
        }
    }
}
