/* standalone.c: the firmware's entry for a board that trains on its own, with no host attached
 * (`hge board build <board> --standalone --task <task>`). At power-up it configures itself from
 * the configuration block compiled in (gen/hge_config_block.c), resumes from the learned state
 * kept in persistent storage (hal_checkpoint_load: flash or EEPROM on hardware, a host file in
 * emulation) when the module accepts it, then trains: one ADC reading in (volts), one set of
 * electrode voltages out, per sample. It runs the host's training loop (host/train.ts
 * TrainingRun), iteration for iteration: an iteration is an update, or an epoch measured on held
 * controls. After every iteration it stores the learned state (hal_checkpoint_store, every
 * HGE_CHECKPOINT_EVERY iterations) and sends a TELEMETRY frame on the UART (the link protocol's
 * framing: `hge board watch` prints it); after the end a STOPPED frame.
 * - Solved: the gate's classes separated by HGE_TASK_MARGIN of the outputs' span for
 *   HGE_SOLVED_EPOCHS iterations in a row, the first solved epoch's controls held (hold(): its
 *   update undone) while the next ones confirm it, read plainly (no tones), and the classes'
 *   gap above HGE_NOISE_GAPS times the held readings' scatter in each (else the row starts
 *   again). After a reset the row starts again: it confirms outputs measured since power-up.
 * - Restarts: an attempt whose margin has not gained HGE_MARGIN_PROGRESS for HGE_PATIENCE
 *   iterations starts again from the host's next seeded start (HGE_RESTART_STARTS_V), keeping
 *   the lag the module fitted, or calibrating again where none was fitted yet (the calibration
 *   had not ended, or found the tones within the noise: HGE_EVENT_LAG_UNFITTED). So does one
 *   that ends in the controller's fault (windows discarded one after another: readings
 *   saturated or not finite at its controls); HGE_FAULTED_STARTS of them in a row end the run.
 *   After a reset the resumed attempt counts as the first: the
 *   iteration count goes on from its checkpoint's epochs, the restart schedule from its start,
 *   and a checkpoint stored before any lag was fitted calibrates from its controls.
 * - The end: solved, HGE_MAX_ITERATIONS iterations (0: no limit), or the controller's fault: the electrodes
 *   are parked (app_park), the state stored, and hal_exit() is called with 0 (solved), 1 (not
 *   solved) or 2 (fault).
 * The task's targets and these limits come from gen/standalone_config.h. */
#include <math.h> /* sqrtf, INFINITY */
#include <string.h>

#include "app.h"
#include "board_config.h"
#include "frame.h"
#include "hal.h"
#include "hge.h"
#include "link_protocol.h"
#include "standalone_config.h"

#ifndef HGE_CHECKPOINT_EVERY
#define HGE_CHECKPOINT_EVERY 1
#endif

static const float targets[HGE_TASK_CASES] = HGE_TASK_TARGETS;
static float parked[HGE_DAC_CHANNELS];
/* The host's starts for attempts 1 .. HGE_RESTARTS, HGE_RESTART_CONTROLS voltages each. */
static const float restart_starts[HGE_RESTARTS * HGE_RESTART_CONTROLS + 1] = HGE_RESTART_STARTS_V;
extern const uint32_t hge_config_block[HGE_CONFIG_WORDS]; /* gen/hge_config_block.c */
static uint32_t iteration; /* updates and held epochs since the first power-up's start */
/* The attempt running: its best margin and when it came, its solved epochs in a row, and
 * whether its controls are held (a start, or a restart, begins them again). */
struct progress {
  uint32_t best_at;
  float best_margin;
  int solved_run, holding;
};
static void attempt_begins(struct progress *a) {
  a->best_margin = -INFINITY;
  a->best_at = iteration;
  a->solved_run = 0;
  a->holding = 0; /* configure() lets the controls move */
}

/* Telemetry records go out on the UART as TELEMETRY frames. */
void hal_telemetry(const hal_words *parts, int n) { hge_frame_send_words(HGE_LINK_TELEMETRY, parts, n); }

/* ---- a few numbers in a log line, without printf (it would pull in stdio) ---- */
static char line[160];
static int at;
static void text(const char *s) { while (*s && at < (int)sizeof line - 1) line[at++] = *s++; line[at] = 0; }
static void whole(uint32_t v) {
  char b[11];
  int n = 0;
  do { b[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n && at < (int)sizeof line - 1) line[at++] = b[--n];
  line[at] = 0;
}
static void fixed(float v, int decimals) { /* v with `decimals` digits after the point */
  if (!(v == v)) { text("nan"); return; }
  if (v < 0) { text("-"); v = -v; }
  uint32_t scale = 1;
  for (int i = 0; i < decimals; i++) scale *= 10;
  if (v > 3.4e38f) { text("inf"); return; } /* a margin of no span (gate_margin) */
  if (v > 4e9f / (float)scale) { text("big"); return; }
  uint32_t units = (uint32_t)(v * (float)scale + 0.5f);
  whole(units / scale);
  if (!decimals) return;
  text(".");
  uint32_t frac = units % scale;
  for (uint32_t d = scale / 10; d; d /= 10) { whole(frac / d); frac %= d; }
}
static void emit(void) { hal_log(line); at = 0; line[0] = 0; }

static int32_t status_i32(int word) {
  int32_t v;
  memcpy(&v, hge_memory() + HGE_STATUS + 4u * (uint32_t)word, 4);
  return v;
}
static float status_f32(int word) {
  float v;
  memcpy(&v, hge_memory() + HGE_STATUS + 4u * (uint32_t)word, 4);
  return v;
}

/* (lowest output of class 1 - highest of class 0) / span of all outputs: the host's gateMargin
 * (host/tasks/gates.ts); *gap gets the numerator. */
static float gate_margin(float *gap) {
  const float *outputs = hge_case_outputs(); /* hge.h's typed view of the module's buffer */
  float lowest_one = 3.4e38f, highest_zero = -3.4e38f, lowest = 3.4e38f, highest = -3.4e38f;
  for (int p = 0; p < HGE_TASK_CASES; p++) {
    float y = outputs[p];
    if (targets[p] > 0.5f) { if (y < lowest_one) lowest_one = y; }
    else if (y > highest_zero) highest_zero = y;
    if (y < lowest) lowest = y;
    if (y > highest) highest = y;
  }
  float span = highest - lowest;
  *gap = lowest_one - highest_zero;
  if (!(span > 0)) return -INFINITY; /* no progress over any margin (host/tasks/gates.ts) */
  return *gap / span;
}

/* The solved epochs in a row, as the host's Confirmation (host/methods/method.ts) judges them
 * (separatedBeyondNoise, host/tasks/gates.ts): their smallest gap, and the case outputs of the
 * held ones (all but the first) as offsets from the first held one's, summed (no cancellation
 * in f32 where the scatter is small beside the outputs). */
static struct { float min_gap, first[HGE_TASK_CASES], sum[HGE_TASK_CASES], squares[HGE_TASK_CASES]; } row;

/* Counts solved epoch `run` of the row (1, 2, ...) with its gap. Returns 0 where the row is
 * complete (HGE_SOLVED_EPOCHS) and its classes do not stand apart beyond the noise: some
 * epoch's gap within HGE_NOISE_GAPS times the scatter of a case output over the held epochs
 * (a device that does not respond, read as noise, separates the cases now and then). */
static int confirmed(int run, float gap) {
  const float *y = hge_case_outputs();
  if (run == 1 || gap < row.min_gap) row.min_gap = gap;
  for (int p = 0; p < HGE_TASK_CASES; p++) {
    if (run == 2) { row.first[p] = y[p]; row.sum[p] = 0; row.squares[p] = 0; }
    float d = y[p] - row.first[p];
    if (run > 2) { row.sum[p] += d; row.squares[p] += d * d; }
  }
  int held = run - 1;
  if (run < HGE_SOLVED_EPOCHS || held < 2) return 1;
  float squares = 0;
  for (int p = 0; p < HGE_TASK_CASES; p++) squares += row.squares[p] - row.sum[p] * row.sum[p] / (float)held;
  return row.min_gap > HGE_NOISE_GAPS * sqrtf(squares / (float)(HGE_TASK_CASES * (held - 1)));
}

static void store(void) {
  const uint8_t *state;
  int bytes = app_checkpoint(&state);
  if (bytes > 0) hal_checkpoint_store(state, bytes);
}

static void finish(int code, int reason, uint32_t samples) {
  app_report(APP_REPORT_FINAL); /* the last TELEMETRY frame; stores the checkpoint */
  int n = app_park(parked, HGE_DAC_CHANNELS); /* (its ramp's samples are not the run's) */
  uint8_t stopped[8 + 4 * HGE_DAC_CHANNELS] = { (uint8_t)reason };
  const uint8_t *state;
  uint32_t bytes = (uint32_t)app_checkpoint(&state);
  memcpy(stopped + 4, &bytes, 4);
  memcpy(stopped + 8, parked, 4 * (size_t)n);
  hge_frame_send(HGE_LINK_STOPPED, stopped, 8 + 4 * n);
  text(code == 0 ? "hge: solved" : code == 1 ? "hge: not solved" : "hge: fault");
  text(" after "); whole(iteration); text(" updates; ");
  fixed((float)samples / (float)HGE_SAMPLE_RATE_HZ, 2); text(" device-seconds since power-up; margin ");
  float gap;
  fixed(gate_margin(&gap) * 100.0f, 1); text(" %; parked");
  emit();
  hal_exit(code);
}

/* Configures the block again from the controls `start`, with the lag the module uses (no
 * second calibration), or with `calibrate` the block's calibration again. Returns the module's
 * verdict (0: it runs). */
static int start_from(const float *start, int calibrate) {
  hge_config_t *c = hge_config();
  float delay = status_f32(HGE_STATUS_LAG_DELAY_SAMPLES), corner = status_f32(HGE_STATUS_LAG_CORNER_HZ);
  memcpy(c, hge_config_block, sizeof *c);
  memcpy(c->initial_v, start, 4 * HGE_RESTART_CONTROLS);
  if (!calibrate) {
    c->calibration_epochs = 0;
    c->lag_delay_samples = delay;
    c->lag_corner_hz = corner;
  }
  int rc = app_configure(c, (int)sizeof *c, 0);
  /* configure() moved no electrode but into its new range (the last step's voltages stand, and
   * the next step ramps on): a range's end goes on the DACs now */
  if (rc == 0) hal_dac_write(app_outputs(), app_output_count());
  return rc;
}

/* Stuck or faulted: attempt `attempt` starts from the host's start for it (start_from). */
static int restart(int attempt, int calibrate) { return start_from(&restart_starts[(attempt - 1) * HGE_RESTART_CONTROLS], calibrate); }

/* Says attempt `attempt` started (`after`: what ended the last, then its update) and begins its
 * progress. Cold: a run restarts a few times at most, and gcc -O2 inlined the log line's
 * helpers into it (432 bytes; 108 so, and the firmware 64 bytes smaller than with the line
 * written out at each restart). */
__attribute__((cold)) static void restarted(struct progress *a, int attempt, const char *after, int calibrate) {
  text("restart "); whole((uint32_t)attempt); text(after); whole(iteration);
  text(calibrate ? ": the host's next start, calibrating again" : ": the host's next start, the lag kept");
  emit();
  attempt_begins(a);
}

/* Iterations before HGE_MAX_ITERATIONS ends the run; with no limit (0), more than any count. */
static uint32_t iterations_left(void) { return HGE_MAX_ITERATIONS ? (uint32_t)HGE_MAX_ITERATIONS - iteration : UINT32_MAX; }

/* Whether the run may start again (the host's TrainingRun.restartsLeft). */
static int restarts_left(int attempt) {
  return HGE_PATIENCE > 0 && attempt < HGE_RESTARTS && iterations_left() > 0;
}

int main(void) {
  hal_init();
  int rc = app_init(); /* configured, ramping from the DACs' power-on voltages */
  if (rc != 0) {
    app_log_refusal(rc);
    hal_exit(3);
  }
  /* the stored blob is read straight into the module's checkpoint buffer, where hge_load() reads it */
  uint8_t *blob = hge_checkpoint();
  int bytes = hal_checkpoint_load(blob, HGE_LINK_MAX_CHECKPOINT);
  int resumed = bytes > 0 && app_load_checkpoint(blob, bytes) == 0;
  /* a resumed run goes on from the iterations its checkpoint counted: the epochs after the
   * calibration (updates and held epochs), at least its updates */
  const hge_config_t *block = (const hge_config_t *)(const void *)hge_config_block;
  int32_t epochs = status_i32(HGE_STATUS_EPOCHS) - block->calibration_epochs;
  int32_t updates = status_i32(HGE_STATUS_UPDATES);
  iteration = (uint32_t)(epochs > updates ? epochs : updates);
  /* the configuration running calibrates and no calibration has fitted a lag yet (one that
   * found only noise, HGE_EVENT_LAG_UNFITTED, leaves it so), as the host's
   * TrainingRun.calibrating. A checkpoint stored before any fit holds the block's lag (a fit
   * landing on it to the bit would be taken for none): the run goes on from its controls and
   * calibrates, as the host's --resume does (continuationOf), its optimiser's moments,
   * measured with that lag, not kept */
  int calibrating = block->calibration_epochs > 0 && (!resumed ||
    (status_f32(HGE_STATUS_LAG_DELAY_SAMPLES) == block->lag_delay_samples && status_f32(HGE_STATUS_LAG_CORNER_HZ) == block->lag_corner_hz));
  if (resumed && calibrating && start_from(hge_weights(), 1) != 0) finish(2, HGE_LINK_STOP_FAULT, 0);
  if (resumed) {
    text("hge: resumed from the stored checkpoint at update "); whole(iteration);
    if (calibrating) text(", no lag fitted yet: calibrating from its controls");
  } else {
    text(bytes > 0 ? "hge: stored checkpoint refused (checksum or contents); training from the start" : "hge: no stored checkpoint; training from the start");
  }
  text(" ("); text(HGE_TASK_NAME); text(", "); whole(HGE_SAMPLE_RATE_HZ); text(" Hz, readings in "); text(HGE_ADC_UNIT); text(")");
  emit();
  uint32_t samples = 0;
  int attempt = 0, faulted = 0;
  struct progress progress;
  attempt_begins(&progress);
  for (;;) {
    float volts;
    if (hal_adc_read(&volts) != 0) break;
    uint32_t events = app_step(volts);
    samples++;
    hal_dac_write(app_outputs(), app_output_count());
    app_report(events);
    if (events & HGE_EVENT_CALIBRATED) calibrating = 0;
    if (events & HGE_EVENT_FAULT) {
      /* a start that cannot be measured is left for the next, as a stuck one is */
      if (!restarts_left(attempt) || ++faulted >= HGE_FAULTED_STARTS || restart(++attempt, calibrating) != 0) finish(2, HGE_LINK_STOP_FAULT, samples);
      restarted(&progress, attempt, " after a fault at update ", calibrating);
      continue;
    }
    if (!(events & (progress.holding ? HGE_EVENT_EPOCH_DONE : HGE_EVENT_UPDATE_DONE))) continue;
    iteration++;
    faulted = 0;
    float gap, margin = gate_margin(&gap);
    int solved_now = margin >= HGE_TASK_MARGIN;
    progress.solved_run = solved_now ? progress.solved_run + 1 : 0;
    int within_noise = solved_now && !confirmed(progress.solved_run, gap);
    if (within_noise) progress.solved_run = 0; /* not taken: the count starts again */
    /* a solved epoch is confirmed on the controls it measured: held there until
     * HGE_SOLVED_EPOCHS in a row, let go at the first epoch that is not solved */
    int hold = progress.solved_run > 0 && progress.solved_run < HGE_SOLVED_EPOCHS, measured_held = progress.holding;
    if (hold != progress.holding) {
      hge_hold((uint32_t)hold);
      progress.holding = hold;
    }
    if (iteration % HGE_CHECKPOINT_EVERY == 0) store(); /* what training goes on from: held controls included */
    text("update "); whole(iteration); text(" loss "); fixed(status_f32(HGE_STATUS_LOSS), 4);
    text(" margin "); fixed(margin * 100.0f, 1); text(measured_held ? " % held at " : " % at ");
    fixed((float)samples / (float)HGE_SAMPLE_RATE_HZ, 2); text(" s");
    emit();
    if (within_noise) {
      text("solved within the noise, not taken: a gap within "); whole((uint32_t)HGE_NOISE_GAPS); text(" times the held readings' scatter");
      emit();
    }
    if (progress.solved_run >= HGE_SOLVED_EPOCHS) finish(0, HGE_LINK_STOP_SOLVED, samples);
    if (iterations_left() == 0) finish(1, HGE_LINK_STOP_LIMIT, samples);
    if (margin > progress.best_margin + HGE_MARGIN_PROGRESS) {
      progress.best_margin = margin;
      progress.best_at = iteration;
    }
    if (iteration - progress.best_at >= HGE_PATIENCE && iterations_left() >= HGE_PATIENCE && restarts_left(attempt)) {
      if (restart(++attempt, calibrating) != 0) finish(2, HGE_LINK_STOP_FAULT, samples);
      restarted(&progress, attempt, " after update ", calibrating);
    }
  }
  finish(1, HGE_LINK_STOP_HOST, samples); /* the readings ended (a replayed stream) */
}
