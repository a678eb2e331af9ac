package dev.acdc.report;

import dev.acdc.train.EpochRecord;
import dev.acdc.train.TrainOptions;

import java.util.List;

/**
 * A fine-tune (or, in {@code acdc train}'s report, a training run): the data it trained on and chose
 * its epoch by, the settings, the curve, the epoch kept, and its speed.
 */
public record FineTuneSection(String backend, String trainData, int trainImages, String selectionData,
                              int selectionImages, int evalImages, String keptEpochChosenBy, String evalData,
                              Settings settings, List<Epoch> epochs, int bestEpoch, int steps, double seconds,
                              double imagesPerSecond) {
    /** The training options the run used, as the command line spells them. */
    public record Settings(int epochs, int maxSteps, int batch, double lr, String optimizer, double momentum,
                           boolean cycleMomentum, double weightDecay, String schedule, double warmup,
                           double temperature, double kdWeight, double ceWeight, Boolean augment, String train,
                           long seed, double clip, String batchNorm, String batchNormStart, String augmentMode) {
        public static Settings of(TrainOptions o) {
            return new Settings(o.epochs(), o.maxSteps(), o.batch(), o.lr(), TrainOptions.spell(o.optimizer()),
                    o.momentum(), o.cycleMomentum(), o.weightDecay(), TrainOptions.spell(o.schedule()), o.warmup(),
                    o.temperature(), o.kdWeight(), o.ceWeight(), o.augment(), TrainOptions.spell(o.train()), o.seed(),
                    o.clip(), TrainOptions.spell(o.batchNorm()), TrainOptions.spell(o.batchNormStart()),
                    TrainOptions.spell(o.augmentMode()));
        }

        /** "epochs 8, maxSteps 0, batch 128, ...", in the order of the record. */
        public String line() {
            StringBuilder sb = new StringBuilder();
            for (var c : Settings.class.getRecordComponents()) {
                try {
                    sb.append(sb.length() == 0 ? "" : ", ").append(c.getName()).append(' ').append(c.getAccessor().invoke(this));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
            return sb.toString();
        }
    }

    /** One epoch: mean loss, top-1 on the selection split and the evaluation data (null: none), seconds. */
    public record Epoch(int epoch, double loss, Double evalTop1, Double selectTop1, double seconds, boolean best) {
        public Epoch {
            evalTop1 = Finite.of(evalTop1);
            selectTop1 = Finite.of(selectTop1);
        }

        public static Epoch of(EpochRecord r) {
            return new Epoch(r.epoch(), r.loss(), r.evalTop1(), r.selectTop1(), r.seconds(), r.best());
        }
    }

    /** The kept epoch's top-1 on the evaluation data, or null. */
    public Double keptEvalTop1() {
        for (Epoch e : epochs) {
            if (e.epoch() == bestEpoch) {
                return e.evalTop1();
            }
        }
        return null;
    }
}
