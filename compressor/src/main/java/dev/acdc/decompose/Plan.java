package dev.acdc.decompose;

import java.util.List;

/** The planner's result: the group size used, every convolution's decision, the sharing sets. */
public record Plan(Settings settings, int group, String groupReason, List<ConvPlan> convs, List<SharingSet> sets,
                   List<String> notes) {

    public List<ConvPlan> decomposed() {
        return convs.stream().filter(ConvPlan::decomposed).toList();
    }

    public SharingSet set(String id) {
        for (SharingSet s : sets) {
            if (s.id().equals(id)) {
                return s;
            }
        }
        return null;
    }
}
