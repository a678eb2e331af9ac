package dev.acdc.decompose;

import dev.acdc.ir.Model;
import dev.acdc.ir.Tensor;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.testing.ModelGenerators;
import dev.acdc.train.Nd4jBackend;
import dev.acdc.train.TrainOptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightRolesTest {
    private static Model compressed(String form) {
        Model m = ModelGenerators.residual(3, 8, 16, 5, 2);
        Compressor.compress(m, Settings.of("net", "4", "8", form, null), s -> { });
        return OnnxModels.fromBytes(OnnxModels.toBytes(m), null); // through the file: the record must survive
    }

    @Test
    void theExporterRecordsCoefficientsAndAtomsInBothForms() {
        for (String form : List.of("reconstruct", "factorized")) {
            Model m = compressed(form);
            assertTrue(m.metadata().containsKey(WeightRoles.KEY), form);
            Map<String, WeightRoles.Role> roles = WeightRoles.of(m);
            List<String> coeff = WeightRoles.named(roles, WeightRoles.Role.COEFFICIENTS);
            List<String> atoms = WeightRoles.named(roles, WeightRoles.Role.ATOMS);
            assertEquals(1, coeff.size(), form + ": one shared coefficient tensor with --share=net");
            int decomposed = Integer.parseInt(m.metadata().get("acdc.decomposed_convs"));
            assertEquals(decomposed, atoms.size(), form + ": one atom tensor per decomposed conv");
            for (String a : atoms) {
                Tensor t = m.graph().initializer(a);
                assertEquals(m.graph().initializer(coeff.get(0)).shape()[1], t.shape()[0], a + ": m atoms");
            }
            assertTrue(roles.values().stream().anyMatch(r -> r == WeightRoles.Role.DENSE), "the dense layers");
        }
    }

    /** Roles follow the record, not the names: renamed tensors are still what they are. */
    @Test
    void rolesDoNotDependOnNames() {
        Model m = compressed("reconstruct");
        Map<String, WeightRoles.Role> before = WeightRoles.of(m);
        Map<String, String> renamed = new java.util.LinkedHashMap<>();
        int i = 0;
        for (String name : List.copyOf(m.graph().initializers().keySet())) {
            String to = "w" + i++;
            Tensor t = m.graph().initializer(name);
            m.graph().putInitializer(t.withName(to));
            m.graph().replaceUses(name, to);
            renamed.put(name, to);
        }
        m.graph().removeUnusedInitializers();
        // the record is rewritten with the new names, as a tool that renames would have to ...
        Map<String, WeightRoles.Role> recorded = new java.util.LinkedHashMap<>();
        before.forEach((k, v) -> {
            if (v == WeightRoles.Role.COEFFICIENTS || v == WeightRoles.Role.ATOMS) {
                recorded.put(renamed.get(k), v);
            }
        });
        WeightRoles.record(m, recorded);
        Map<String, WeightRoles.Role> after = WeightRoles.of(m);
        before.forEach((k, v) -> assertEquals(v, after.get(renamed.get(k)), k));
        // ... and without any record the structure gives the same roles
        m.metadata().remove(WeightRoles.KEY);
        Map<String, WeightRoles.Role> structural = WeightRoles.of(m);
        before.forEach((k, v) -> assertEquals(v, structural.get(renamed.get(k)), k + " from the structure"));
    }

    /** --train atoms / coefficients pick exactly the tensors of that role. */
    @Test
    void trainingChoosesWeightsByRole() {
        Model m = compressed("reconstruct");
        dev.acdc.passes.PassManager.standard().run(m);
        Map<String, WeightRoles.Role> roles = WeightRoles.of(m);
        for (TrainOptions.Trained which : TrainOptions.Trained.values()) {
            TrainOptions o = TrainOptions.builder().train(which).batchNorm(TrainOptions.BatchNormMode.FOLDED).build();
            Set<String> expected = roles.entrySet().stream().filter(e -> o.trains(e.getValue()))
                    .map(Map.Entry::getKey).collect(Collectors.toSet());
            Set<String> trained = new Nd4jBackend(m, o, true).state().stream().collect(Collectors.toSet());
            assertEquals(expected, trained, which.toString());
            assertTrue(!trained.isEmpty());
        }
    }
}
