package dev.acdc.util;

import ai.onnxruntime.platform.Fp16Conversions;
import dev.acdc.ir.DataType;
import dev.acdc.ir.Model;
import dev.acdc.onnx.OnnxModels;
import dev.acdc.testing.ModelGenerators;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HalfTest {
    /** Every one of the 65 536 halves widens as ONNX Runtime's conversion does and narrows back to itself. */
    @Test
    void everyHalfRoundTripsAndAgreesWithOnnxRuntime() {
        for (int b = 0; b < 1 << 16; b++) {
            short h = (short) b;
            float f = Half.toFloat(h);
            float ort = Fp16Conversions.fp16ToFloat(h);
            if (Float.isNaN(ort)) {
                assertTrue(Float.isNaN(f), Integer.toHexString(b));
                assertTrue(Float.isNaN(Half.toFloat(Half.fromFloat(f))));
            } else {
                assertEquals(Float.floatToIntBits(ort), Float.floatToIntBits(f), Integer.toHexString(b));
                assertEquals(h, Half.fromFloat(f), Integer.toHexString(b));
            }
        }
    }

    /** Narrowing rounds to the nearest half, ties to even, like ONNX Runtime's conversion (the oracle). */
    @Test
    void narrowingRoundsToNearestEven() {
        Random r = new Random(1);
        for (int i = 0; i < 200_000; i++) {
            float f = switch (i % 4) {
                case 0 -> (float) r.nextGaussian();
                case 1 -> (float) (r.nextGaussian() * 1e-5); // subnormal halves
                case 2 -> (float) (r.nextGaussian() * 7e4); // past 65504: infinity
                default -> Float.intBitsToFloat(r.nextInt());
            };
            if (Float.isNaN(f)) {
                continue;
            }
            assertEquals(Fp16Conversions.floatToFp16(f), Half.fromFloat(f), Float.toString(f));
        }
        assertEquals(1.0009765625f, Half.round(1.00048828125f + 1e-7f)); // just over half an ulp: up
        assertEquals(1.0f, Half.round(1.00048828125f)); // a tie: to the even neighbour
    }

    /** A FLOAT16 tensor is written as halves and read back as the same values. */
    @Test
    void float16TensorsSurviveSaveAndLoad() {
        Model m = ModelGenerators.asFloat16(ModelGenerators.residual(3, 8, 4, 5, 1), false);
        Model back = OnnxModels.fromBytes(OnnxModels.toBytes(m), null);
        for (var t : m.graph().initializers().values()) {
            var u = back.graph().initializer(t.name());
            assertEquals(t.type(), u.type());
            if (t.type() == DataType.FLOAT16) {
                assertArrayEquals(t.floats(), u.floats(), t.name());
            }
        }
        assertEquals(DataType.FLOAT16, back.graph().inputs().get(0).elemType());
    }
}
