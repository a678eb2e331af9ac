package dev.acdc.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One epoch: mean training loss, top-1 on the reported evaluation data and on the selection split
 * (NaN where there is none), seconds, and whether it is the epoch kept so far.
 */
public record EpochRecord(int epoch, double loss, double evalTop1, double selectTop1, double seconds,
                          boolean best) {
    public Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", epoch);
        m.put("loss", loss);
        m.put("evalTop1", Double.isNaN(evalTop1) ? null : evalTop1);
        m.put("selectTop1", Double.isNaN(selectTop1) ? null : selectTop1);
        m.put("seconds", seconds);
        m.put("best", best);
        return m;
    }

    EpochRecord asBest() {
        return new EpochRecord(epoch, loss, evalTop1, selectTop1, seconds, true);
    }

    static EpochRecord fromJson(Map<String, Object> m) {
        return new EpochRecord((int) Checkpoint.num(m.get("epoch")), Checkpoint.num(m.get("loss")),
                Checkpoint.num(m.get("evalTop1")), Checkpoint.num(m.get("selectTop1")),
                Checkpoint.num(m.get("seconds")), Boolean.TRUE.equals(m.get("best")));
    }
}
