/* The adapter for the controller (build/hge.wasm): configuration from a block of bytes,
 * one hge_step() per sample, the electrode voltages from the module's ELECTRODES buffer,
 * telemetry records, parking and checkpoints. Everything it knows about the module comes from
 * the generated hge.h (functions, buffer addresses, the configuration block's layout).
 * Memory is read and written with memcpy: the module's memory is a byte array. */
#include <stddef.h>
#include <string.h>

#include "app.h"
#include "board_config.h"
#include "hal.h"
#include "hge.h"

static const float safe_min_v[HGE_DAC_CHANNELS] = HGE_SAFE_MIN_V;
static const float safe_max_v[HGE_DAC_CHANNELS] = HGE_SAFE_MAX_V;
static const float park_v[HGE_DAC_CHANNELS] = HGE_PARK_VOLTS;

/* The running configuration's shape. */
static int controls, inputs, cases;

static inline float f32_at(uint32_t address) {
  float v;
  memcpy(&v, hge_memory() + address, sizeof v);
  return v;
}

/* A field of the configuration block in the module's memory (hge_config_t names them). */
#define CONFIG_I32(field) i32_at(HGE_CONFIG + offsetof(hge_config_t, field))
#define CONFIG_F32(field, k) f32_at(HGE_CONFIG + offsetof(hge_config_t, field) + 4u * (uint32_t)(k))
static inline int32_t i32_at(uint32_t address) {
  int32_t v;
  memcpy(&v, hge_memory() + address, sizeof v);
  return v;
}

/* The board's limits on the block written at CONFIG, where the module would accept it: every
 * electrode driven by a DAC channel, every range inside that channel's safe range. Counts the
 * module would refuse are left to the module. */
static int board_refusal(int32_t *index) {
  int controls = CONFIG_I32(control_count), inputs = CONFIG_I32(input_count);
  if (controls < 1 || controls > HGE_MAX_CONTROLS || inputs < 0 || inputs > HGE_MAX_INPUTS) return 0;
  /* the board's converters run at one rate: a configuration planned for another is wrong in
   * every frequency it names (tones, band, lag corner) */
  if (CONFIG_F32(sample_rate_hz, 0) != (float)HGE_SAMPLE_RATE_HZ) return APP_BOARD_REFUSAL | HGE_FIELD_SAMPLE_RATE_HZ;
  if (controls + inputs > HGE_DAC_CHANNELS) {
    *index = HGE_DAC_CHANNELS;
    return APP_BOARD_REFUSAL | (controls > HGE_DAC_CHANNELS ? HGE_FIELD_CONTROL_COUNT : HGE_FIELD_INPUT_COUNT);
  }
  for (int k = 0; k < controls; k++) {
    *index = k;
    if (!(CONFIG_F32(min_v, k) >= safe_min_v[k])) return APP_BOARD_REFUSAL | HGE_FIELD_MIN_V;
    if (!(CONFIG_F32(max_v, k) <= safe_max_v[k])) return APP_BOARD_REFUSAL | HGE_FIELD_MAX_V;
  }
  for (int i = 0; i < inputs; i++) {
    *index = i;
    if (!(CONFIG_F32(input_min_v, i) >= safe_min_v[controls + i])) return APP_BOARD_REFUSAL | HGE_FIELD_INPUT_MIN_V;
    if (!(CONFIG_F32(input_max_v, i) <= safe_max_v[controls + i])) return APP_BOARD_REFUSAL | HGE_FIELD_INPUT_MAX_V;
  }
  *index = 0;
  return 0;
}

static int32_t refused_index; /* the element app_configure() last named */
/* DAC channels 0 .. driven-1 have been driven by some configuration; the others are where
 * hal_init() left them, at the park voltages. */
static int driven;

int app_configure(const void *block, int bytes, int32_t *index) {
  if (!index) index = &refused_index;
  *index = 0;
  if (bytes != (int)sizeof(hge_config_t)) return APP_BAD_BLOCK_SIZE;
  /* CONFIG is the module's staging block: writing it does not disturb the running one (the
   * link entry receives the block there already) */
  if (block != hge_config()) memcpy(hge_config(), block, sizeof(hge_config_t));
  int refusal = board_refusal(index);
  if (refusal) return refusal;
  /* the module ramps each channel from ELECTRODES: a channel no configuration has driven (a
   * later one drives more than any before it) starts where the DAC is, not at 0 V (the first
   * configuration writes its voltages as they are: app_init()). Counts beyond the board's
   * channels are the module's to refuse (board_refusal). */
  int32_t asked_controls = CONFIG_I32(control_count), asked_inputs = CONFIG_I32(input_count);
  int channels = asked_controls >= 0 && asked_inputs >= 0 && asked_controls <= HGE_DAC_CHANNELS && asked_inputs <= HGE_DAC_CHANNELS
    ? asked_controls + asked_inputs : 0;
  if (channels > driven && channels <= HGE_DAC_CHANNELS) memcpy(hge_electrodes() + driven, &park_v[driven], 4 * (size_t)(channels - driven));
  int code = (int)hge_configure();
  if (code != 0) {
    int32_t element;
    memcpy(&element, hge_memory() + HGE_STATUS + 4 * HGE_STATUS_ERROR_INDEX, sizeof element);
    *index = element;
    return code;
  }
  controls = CONFIG_I32(control_count);
  inputs = CONFIG_I32(input_count);
  cases = CONFIG_I32(case_count);
  if (channels > driven) driven = channels;
  return 0;
}

static char *decimal(char *at, uint32_t v) {
  char digits[10];
  int n = 0;
  do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n) *at++ = digits[--n];
  return at;
}

void app_log_refusal(int code) {
  static char line[128];
  char *at = line;
#define PUT(s) for (const char *p = (s); *p; p++) *at++ = *p
  PUT("hge: configuration refused: ");
  if (code == APP_BAD_BLOCK_SIZE) {
    PUT("a block of another size than hge_config_t");
  } else {
    PUT(hge_field_name(code & 0xff)); PUT("["); at = decimal(at, (uint32_t)refused_index);
    PUT("] (field "); at = decimal(at, (uint32_t)(code & 0xff));
    PUT(code & APP_BOARD_REFUSAL ? "), outside the board's limits" : "), by the module");
  }
#undef PUT
  *at = 0;
  hal_log(line);
}

#ifdef HGE_HAVE_CONFIG_BLOCK
extern const uint32_t hge_config_block[HGE_CONFIG_WORDS]; /* gen/hge_config_block.c */
#endif

int app_init(void) {
  hge_instantiate();
#ifdef HGE_HAVE_CONFIG_BLOCK
  /* The module writes a first configuration's voltages as they are: it cannot know where the
   * DACs are. They are where hal_init() left them, at the park voltages: told so (ELECTRODES
   * is what it ramps from) and configured again, it ramps from there at the slew limit, as at
   * any reconfiguration (the ramp counts as settling). configure() itself moves no electrode
   * (but into its range): writing ELECTRODES now writes the park voltages, or a range's end. */
  int rc = app_configure(hge_config_block, sizeof hge_config_block, 0);
  if (rc != 0) return rc;
  memcpy(hge_electrodes(), park_v, 4 * (size_t)app_output_count());
  rc = app_configure(hge_config_block, sizeof hge_config_block, 0);
  if (rc == 0) hal_dac_write(app_outputs(), app_output_count());
  return rc;
#else
  return 0; /* configured later (link.c: a CONFIG frame) */
#endif
}

/* The ADC reads volts; the module's configuration is in the device unit (HGE_ADC_UNIT, e.g.
 * nA): the board file's transimpedance converts (board_config.h, HGE_ADC_UNIT_PER_V). */
uint32_t app_step(float volts) { return hge_step(volts * HGE_ADC_UNIT_PER_V); }

const float *app_outputs(void) { return (const float *)(const void *)(hge_memory() + HGE_ELECTRODES); }

int app_output_count(void) { return controls + inputs; }

/* ---- telemetry --------------------------------------------------------------------------
 * A record, 32-bit words: events (APP_REPORT_FINAL or'ed in at the end), then
 * controls | inputs << 8 | cases << 16, the HGE_STATUS_WORDS status words, then the weights
 * and the gradient (controls each) and the case outputs (cases). */
#define TELEMETRY_EVENTS (HGE_TELEMETRY_EVENTS | APP_REPORT_FINAL | APP_REPORT_REQUEST)

int app_report(uint32_t events) {
  if (!(events & TELEMETRY_EVENTS) || controls == 0) return 0;
  const uint32_t head[2] = { events, (uint32_t)controls | (uint32_t)inputs << 8 | (uint32_t)cases << 16 };
  const uint8_t *memory = hge_memory();
  const hal_words parts[5] = { /* the module's buffers as they are: no copy */
    { head, 2 }, { memory + HGE_STATUS, HGE_STATUS_WORDS }, { memory + HGE_WEIGHTS, controls },
    { memory + HGE_GRADIENT, controls }, { memory + HGE_CASE_OUTPUTS, cases },
  };
  int n = 2 + HGE_STATUS_WORDS + 2 * controls + cases;
  hal_telemetry(parts, 5);
  if (events & APP_REPORT_FINAL) {
    const uint8_t *blob;
    int bytes = app_checkpoint(&blob);
    if (bytes > 0) hal_checkpoint_store(blob, bytes);
  }
  return n;
}

/* ---- stopping ---------------------------------------------------------------------------- */

int app_park(float *volts, int max) {
  int n = app_output_count();
  if (n == 0) return 0; /* not configured: nothing driven */
  hge_park(); /* PARK: each control's weight, then the inputs, which go to the board's park voltages */
  memcpy(hge_memory() + HGE_PARK + 4u * (uint32_t)controls, &park_v[controls], 4 * (size_t)inputs);
  /* the module ramps there at the slew limit and holds each inside its range: one step a sample,
   * at the ADC's pace as in training (its readings are not used) */
  uint32_t events;
  do {
    float unused;
    hal_adc_read(&unused);
    events = hge_step(0);
    hal_dac_write(app_outputs(), n);
  } while (!(events & HGE_EVENT_PARKED));
  if (n > max) n = max;
  memcpy(volts, app_outputs(), 4 * (size_t)n);
  return n;
}

int app_checkpoint(const uint8_t **blob) {
  *blob = hge_memory() + HGE_CHECKPOINT;
  return controls ? (int)hge_save() : 0;
}

int app_load_checkpoint(const void *blob, int bytes) {
  /* the largest blob: 11 header words (with the learned status), 3 per control, the CRC */
  if (bytes <= 0 || bytes > 4 * (11 + 3 * HGE_MAX_CONTROLS + 1)) return HGE_FIELD_CHECKPOINT;
  if (blob != hge_checkpoint()) memcpy(hge_checkpoint(), blob, (size_t)bytes);
  return (int)hge_load((uint32_t)bytes);
}

int app_tones(int32_t *bins, int32_t *hits, int max) {
  int n = controls < max ? controls : max;
  memcpy(bins, hge_memory() + HGE_TONE_BINS, 4 * (size_t)n);
  memcpy(hits, hge_memory() + HGE_TONE_HITS, 4 * (size_t)n);
  return n;
}
