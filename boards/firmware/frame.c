/* The serial protocol's framing, shared by link.c and standalone.c (see frame.h). */
#include "frame.h"
#include "hal.h"
#include "link_protocol.h"

uint16_t hge_crc16(uint16_t crc, const uint8_t *p, int n) {
  while (n--) {
    crc ^= (uint16_t)(*p++ << 8);
    for (int bit = 0; bit < 8; bit++) crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
  }
  return crc;
}

/* All `len` bytes: hal_uart_write returns the number it took, which may be fewer (a transmit
 * buffer with less room; 0 when full); a negative count (the UART failed) drops the rest. */
__attribute__((noinline)) static void write_all(const void *bytes, int len) {
  const uint8_t *at = bytes;
  while (len > 0) {
    int n = hal_uart_write(at, len);
    if (n < 0) return;
    at += n;
    len -= n;
  }
}

/* A frame is written as it goes: the head, then each piece of the payload (the CRC runs over
 * type, length and payload), then the CRC. */
static uint16_t send_head(uint8_t type, int len) {
  uint8_t head[4] = { HGE_LINK_SYNC, type, (uint8_t)len, (uint8_t)(len >> 8) };
  write_all(head, 4);
  return hge_crc16(0xFFFF, head + 1, 3);
}
static uint16_t send_piece(uint16_t crc, const void *bytes, int len) {
  write_all(bytes, len);
  return hge_crc16(crc, bytes, len);
}
static void send_tail(uint16_t crc) {
  uint8_t tail[2] = { (uint8_t)crc, (uint8_t)(crc >> 8) };
  write_all(tail, 2);
}

void hge_frame_send(uint8_t type, const void *payload, int len) {
  send_tail(send_piece(send_head(type, len), payload, len));
}

void hge_frame_send_words(uint8_t type, const hal_words *parts, int n) {
  int len = 0;
  for (int p = 0; p < n; p++) len += 4 * parts[p].count;
  uint16_t crc = send_head(type, len);
  for (int p = 0; p < n; p++) crc = send_piece(crc, parts[p].words, 4 * parts[p].count);
  send_tail(crc);
}
