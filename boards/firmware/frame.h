/* frame.h: the serial protocol's framing (boards/link.ts defines it; boards/README.md), shared by
 * the link entry (link.c) and the standalone entry (standalone.c, which sends its telemetry on
 * the UART in the same frames so `hge board watch` reads either). */
#ifndef HGE_FRAME_H
#define HGE_FRAME_H
#include <stdint.h>

#include "hal.h"

/** CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, not reflected, no final xor. */
uint16_t hge_crc16(uint16_t crc, const uint8_t *p, int n);
/** Sends one frame on the UART: sync, type, length (u16), payload, CRC-16 of type..payload
 *  (u16), all little-endian. */
void hge_frame_send(uint8_t type, const void *payload, int len);
/** The same with the payload in `n` pieces of 32-bit words, sent one after the other. */
void hge_frame_send_words(uint8_t type, const hal_words *parts, int n);

#endif
