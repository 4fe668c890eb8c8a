/* link.c: the firmware's entry when a host drives the board over the serial link (the
 * framed protocol of boards/README.md; constants in the generated link_protocol.h). The host
 * sends a configuration block, then, for a device it simulates (hardware in the loop), one
 * ADC frame per sample; the board steps the controller and answers with a DAC frame (the
 * next electrode voltages) and, after epochs, updates and faults, a TELEMETRY frame.
 *
 * Training stops cleanly, with the electrodes parked (each control at its weight without the
 * perturbation, each input at the park voltage: app_park) and the learned state saved as a
 * checkpoint (kept in RAM for GET_CHECKPOINT and handed to hal_checkpoint_store), when:
 *  - the host sends STOP;
 *  - a frame is malformed: bad CRC, length, type or payload size, stray bytes between
 *    frames, or a frame cut short (no byte for HGE_LINK_BYTE_TIMEOUT_US);
 *  - the link goes quiet: no ADC frame for HGE_LINK_TIMEOUT_US while running (a dropped
 *    connection: a UART cannot tell a missing host from a slow one);
 *  - the controller reports a fault (16 windows in a row spoiled by bad readings).
 * A STOPPED frame says why, with the parked voltages. A new CONFIG starts again. */
#include <string.h>

#include "app.h"
#include "board_config.h"
#include "hal.h"
#include "hge.h"
#include "link_protocol.h"
#include "frame.h"

/* Generous for a UART (a byte every 87 us at 115200 baud): an emulated board's clock is the
 * host's, and a busy host can hold QEMU up for a good fraction of a second. */
#ifndef HGE_LINK_TIMEOUT_US
#define HGE_LINK_TIMEOUT_US 2000000u
#endif
#ifndef HGE_LINK_BYTE_TIMEOUT_US
#define HGE_LINK_BYTE_TIMEOUT_US 1000000u
#endif
#define FOREVER 0xFFFFFFFFu

/* One buffer for every frame but CONFIG, in and out: the protocol is request and answer, and
 * each handler has read the request before it writes the answer. A CONFIG block (the largest
 * payload) goes straight to the module's staging block (hge_config()), which app_configure()
 * reads. The largest other payload: a checkpoint in (LOAD_CHECKPOINT), an ACK with its tones,
 * or a DAC or STOPPED frame out. */
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define FRAME_BYTES MAX(MAX(HGE_LINK_MAX_CHECKPOINT, 16 + 8 * HGE_MAX_CONTROLS), 8 + 4 * HGE_DAC_CHANNELS)
static uint8_t frame[FRAME_BYTES + 2] __attribute__((aligned(4))); /* payload, CRC */
static int saved_bytes; /* the checkpoint's bytes at the stop */
static float parked[HGE_DAC_CHANNELS];
static int parked_count;
static int state = HGE_LINK_STATE_IDLE;
static int stop_reason;

static void put_u32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static void put_u16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

#define send hge_frame_send
#define crc16 hge_crc16

/* Where a frame's payload is read to: a configuration block into the module's staging block,
 * anything else into the frame buffer; NULL when it is longer than that room (a stop, as a
 * payload over HGE_LINK_MAX_PAYLOAD). */
static uint8_t *payload_area(uint8_t type, int len) {
  if (type == HGE_LINK_CONFIG) return len <= (int)sizeof(hge_config_t) ? (uint8_t *)hge_config() : NULL;
  return len <= FRAME_BYTES ? frame : NULL;
}

/* All `len` bytes, or fewer when `timeout_us` passes without one: hal_uart_read may return
 * fewer than asked (a driver that hands over what it has), and is asked again for the rest. */
static int read_all(uint8_t *at, int len, uint32_t timeout_us) {
  int got = 0;
  for (int n; got < len && (n = hal_uart_read(at + got, len - got, timeout_us)) > 0;) got += n;
  return got;
}

/* Waits up to `wait_us` for a frame's first byte. Returns 1 with the frame's payload at
 * *payload, 0 when no byte came, or minus a stop reason when the frame is malformed. */
static int receive(uint8_t *type, int *len, uint8_t **payload, uint32_t wait_us) {
  uint8_t head[4];
  if (read_all(head, 1, wait_us) != 1) return 0;
  if (head[0] != HGE_LINK_SYNC) return -HGE_LINK_STOP_NO_SYNC;
  if (read_all(head + 1, 3, HGE_LINK_BYTE_TIMEOUT_US) != 3) return -HGE_LINK_STOP_TRUNCATED;
  *type = head[1];
  *len = head[2] | head[3] << 8;
  uint8_t *p = payload_area(*type, *len);
  if (!p) return -HGE_LINK_STOP_BAD_LENGTH;
  /* the CRC after a configuration block lands in the frame buffer: the staging block has
   * room for the block only */
  uint8_t *crc_at = p == frame ? frame + *len : frame;
  if (read_all(p, *len, HGE_LINK_BYTE_TIMEOUT_US) != *len || read_all(crc_at, 2, HGE_LINK_BYTE_TIMEOUT_US) != 2) return -HGE_LINK_STOP_TRUNCATED;
  uint16_t crc = crc16(crc16(0xFFFF, head + 1, 3), p, *len);
  if ((crc_at[0] | crc_at[1] << 8) != crc) return -HGE_LINK_STOP_BAD_CRC;
  *payload = p;
  return 1;
}

/* What the telemetry hook does in a link build: a TELEMETRY frame. */
void hal_telemetry(const hal_words *parts, int n) { hge_frame_send_words(HGE_LINK_TELEMETRY, parts, n); }

static void send_hello(void) {
  static const char name[] = HGE_BOARD_NAME;
  uint8_t *p = frame;
  p[0] = HGE_LINK_VERSION;
  p[1] = (uint8_t)state;
  p[2] = (uint8_t)stop_reason;
  p[3] = 0;
  put_u16(p + 4, HGE_CONFIG_WORDS);
  put_u16(p + 6, HGE_STATUS_WORDS);
  put_u16(p + 8, HGE_DAC_CHANNELS);
  put_u16(p + 10, HGE_LINK_MAX_PAYLOAD);
  put_u32(p + 12, HGE_CLOCK_HZ);
  put_u32(p + 16, HGE_SAMPLE_RATE_HZ);
  put_u32(p + 20, HGE_LINK_TIMEOUT_US / 1000u);
  float unit_per_v = HGE_ADC_UNIT_PER_V; /* the scale the host must build configurations for */
  memcpy(p + 24, &unit_per_v, 4);
  memcpy(p + 28, name, sizeof name - 1);
  send(HGE_LINK_HELLO_REPLY, frame, 28 + (int)sizeof name - 1);
}

static void send_ack(uint8_t request, int32_t code, int32_t index, int extra) {
  frame[0] = request;
  frame[1] = frame[2] = frame[3] = 0;
  put_u32(frame + 4, (uint32_t)code);
  put_u32(frame + 8, (uint32_t)index);
  send(HGE_LINK_ACK, frame, 12 + extra);
}

static void send_dac(uint32_t events) {
  int n = app_output_count();
  put_u32(frame, events);
  memcpy(frame + 4, app_outputs(), 4 * (size_t)n);
  send(HGE_LINK_DAC, frame, 4 + 4 * n);
}

static void send_stopped(void) {
  frame[0] = (uint8_t)stop_reason;
  frame[1] = frame[2] = frame[3] = 0;
  put_u32(frame + 4, (uint32_t)saved_bytes);
  memcpy(frame + 8, parked, 4 * (size_t)parked_count);
  send(HGE_LINK_STOPPED, frame, 8 + 4 * parked_count);
}

/* Park the electrodes, keep the learned state, say why. */
static void stop(int reason) {
  const uint8_t *blob;
  saved_bytes = app_checkpoint(&blob);
  state = HGE_LINK_STATE_STOPPED;
  stop_reason = reason;
  app_report(APP_REPORT_FINAL); /* the last TELEMETRY frame; hal_checkpoint_store */
  parked_count = app_park(parked, HGE_DAC_CHANNELS); /* the board's own converters, ramped */
  send_stopped();
}

/* An ADC or HOLD request (one 32-bit word) can be served: not running, the board says so
 * whatever the payload; running, a payload of another size stops it. */
static int running_with_word(uint8_t type, int len) {
  if (state != HGE_LINK_STATE_RUNNING) send_ack(type, HGE_LINK_NOT_RUNNING, 0, 0);
  else if (len != 4) stop(HGE_LINK_STOP_BAD_PAYLOAD);
  else return 1;
  return 0;
}

static void handle(uint8_t type, int len, const uint8_t *payload) {
  switch (type) {
    case HGE_LINK_HELLO:
      send_hello();
      if (state == HGE_LINK_STATE_STOPPED) send_stopped();
      return;
    case HGE_LINK_CONFIG: {
      int32_t index = 0;
      int code = app_configure(payload, len, &index);
      int extra = 0;
      if (code == 0) {
        int32_t *bins = (int32_t *)(void *)(frame + 16), *hits = bins + HGE_MAX_CONTROLS;
        int n = app_tones(bins, hits, HGE_MAX_CONTROLS);
        memmove(bins + n, hits, 4 * (size_t)n); /* bins[n] then hits[n] */
        put_u32(frame + 12, (uint32_t)n);
        extra = 4 + 8 * n;
      }
      send_ack(type, code, index, extra);
      if (code == 0) {
        state = HGE_LINK_STATE_RUNNING;
        stop_reason = 0;
        send_dac(0);
      }
      return;
    }
    case HGE_LINK_ADC: {
      if (!running_with_word(type, len)) return;
      float volts; /* what the ADC read: app_step() converts it to the device unit */
      memcpy(&volts, payload, 4);
      uint32_t events = app_step(volts);
      app_report(events);
      if (events & HGE_EVENT_FAULT) stop(HGE_LINK_STOP_FAULT);
      else send_dac(events);
      return;
    }
    case HGE_LINK_STOP:
      if (state == HGE_LINK_STATE_STOPPED) send_stopped();
      else stop(HGE_LINK_STOP_HOST);
      return;
    case HGE_LINK_GET_CHECKPOINT: {
      /* stopped, the learned state is the one kept at the stop (saved again: the same bytes),
       * or one the host loaded since */
      const uint8_t *blob;
      int bytes = app_checkpoint(&blob);
      send(HGE_LINK_CHECKPOINT, blob, bytes > 0 ? bytes : 0);
      return;
    }
    case HGE_LINK_GET_TELEMETRY:
      if (app_report(APP_REPORT_REQUEST) == 0) send(HGE_LINK_TELEMETRY, frame, 0);
      return;
    case HGE_LINK_HOLD: {
      if (!running_with_word(type, len)) return;
      int32_t on;
      memcpy(&on, payload, 4);
      hge_hold((uint32_t)on);
      send_ack(type, 0, 0, 0);
      return;
    }
    case HGE_LINK_LOAD_CHECKPOINT:
      send_ack(type, app_load_checkpoint(payload, len), 0, 0);
      return;
    case HGE_LINK_EXIT: {
      int32_t code = 0;
      if (len >= 4) memcpy(&code, payload, 4);
      send_ack(type, 0, 0, 0);
      if (state == HGE_LINK_STATE_RUNNING) stop(HGE_LINK_STOP_HOST);
      hal_exit(code);
    }
    default:
      if (state == HGE_LINK_STATE_RUNNING) stop(HGE_LINK_STOP_BAD_TYPE);
      else send_ack(type, HGE_LINK_UNKNOWN_TYPE, 0, 0);
  }
}

int main(void) {
  hal_init();
  int rc = app_init();
  if (rc != 0) hal_trap(rc, "module did not instantiate");
  send_hello();
  for (;;) {
    uint8_t type = 0;
    int len = 0;
    uint8_t *payload = frame;
    int r = receive(&type, &len, &payload, state == HGE_LINK_STATE_RUNNING ? HGE_LINK_TIMEOUT_US : FOREVER);
    if (r == 1) handle(type, len, payload);
    else if (state == HGE_LINK_STATE_RUNNING) stop(r == 0 ? HGE_LINK_STOP_TIMEOUT : -r);
    /* idle or stopped: stray bytes and broken frames are dropped until a good frame */
  }
}
