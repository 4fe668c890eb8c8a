// The header fields' bounds: config.ts stores each distinct bound once and packs a field's two
// bounds into one byte of indices. These are the bounds written out in full (the README's
// configuration table), to check the packing field by field.
import { fieldBound, LAST_HEADER_FIELD } from "../../assembly/config";
import { Field } from "../../assembly/layout";

// prettier-ignore
const LOW: StaticArray<f32> = [0,
  1, 1, 8, 0, 1, 0, 1, 0, 0, 0, //                    Version .. BandHighHz
  0, 0, 1e-30, 0, 1e-30, 0, 0, 1e-30, 0, 0, //        GuardBins .. Gradient
  0, 0, 0, 0, 1, 1, -1e12, -1e12, 1, 1, 0, //         Demodulation .. SpsaStability
  1e-30, 2]; //                                       SlewVPerS, PlanOrder
// 0.99999994: the largest f32 below 1 (β1 and β2 must stay below 1)
// prettier-ignore
const HIGH: StaticArray<f32> = [0,
  1, 1e9, 1048576, 16777216, 128, 8, 16, 1, 1e9, 1e9, //                          Version .. BandHighHz
  64, 2, 1e30, 2, 1e30, 0.99999994, 0.99999994, 1e30, 4, 2, //                    GuardBins .. Gradient
  1, 1e6, 1e9, 1024, 4, 1e9, 1e12, 1e12, 1048576, 16777216, 1e9, //                Demodulation .. SpsaStability
  1e30, 3]; //                                                                    SlewVPerS, PlanOrder

describe("header field bounds", () => {
  it("decodes every field's low and high bound exactly (fields 1..33)", () => {
    expect(LAST_HEADER_FIELD).toBe(LOW.length - 1);
    for (let field = Field.Version; field <= LAST_HEADER_FIELD; field++) {
      expect(fieldBound(field, false)).toBe(LOW[field], "low bound of field " + field.toString());
      expect(fieldBound(field, true)).toBe(HIGH[field], "high bound of field " + field.toString());
    }
  });
});
