/* rtc.c - the MC146818 CMOS real-time clock at ports 0x70/0x71 for firmware
 * boots (docs/firmware.md): OVMF's PcRtc driver needs a clock that reports
 * valid time (register D VRT set, register A UIP clear); its platform code
 * reads the RAM size bytes (0x34/0x35 above 16 MiB, 0x5b-0x5d above 4 GiB,
 * in 64 KiB units) when fw_cfg has no etc/e820.
 *
 * The time registers read the host's UTC time, encoded as register B asks
 * (BCD or binary, 24-hour); writes to them are accepted and forgotten (the
 * guest cannot set the host's clock). The other bytes are plain CMOS RAM. */
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "vmm/firmware_boot.h"

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_B_BINARY 0x04
#define REG_B_24H 0x02
#define CENTURY 0x32

static uint8_t enc(const struct rtc *r, int v)
{
	return r->ram[REG_B] & REG_B_BINARY ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

/* UTC calendar fields of the host's clock, without libc's time zone code
 * (its first use reads /etc/localtime: a vCPU thread's seccomp list has no
 * open). Days since 1970-01-01 to a proleptic Gregorian date, counting in
 * 400-year eras from 0000-03-01. */
struct civil {
	int year, mon, mday, wday, hour, min, sec; /* mon 1-12, wday 0 = Sunday */
};

static void civil_now(struct civil *c)
{
	struct timespec ts;
	int64_t t, days, era, doe, yoe, doy, mp;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = ts.tv_sec;
	days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	t -= days * 86400;
	c->hour = (int)(t / 3600);
	c->min = (int)(t / 60 % 60);
	c->sec = (int)(t % 60);
	c->wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
	days += 719468;                       /* from 0000-03-01 */
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	c->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	c->year = (int)(yoe + era * 400 + (c->mon <= 2));
}

static uint8_t rtc_reg(struct rtc *r, unsigned idx)
{
	struct civil tm;

	if (idx > 9 && idx != CENTURY) {
		if (idx == REG_A)
			return r->ram[REG_A] & 0x7f; /* UIP clear: never mid-update */
		if (idx == REG_C)
			return 0;                    /* no interrupt flags */
		if (idx == REG_D)
			return 0x80;                 /* VRT: the time is valid */
		return r->ram[idx];
	}
	civil_now(&tm);
	switch (idx) {
	case 0: return enc(r, tm.sec);
	case 2: return enc(r, tm.min);
	case 4:
		if (r->ram[REG_B] & REG_B_24H)
			return enc(r, tm.hour);
		/* 12-hour: 1-12, bit 7 = PM */
		return (uint8_t)(enc(r, tm.hour % 12 ? tm.hour % 12 : 12) | (tm.hour >= 12 ? 0x80 : 0));
	case 6: return enc(r, tm.wday + 1);
	case 7: return enc(r, tm.mday);
	case 8: return enc(r, tm.mon);
	case 9: return enc(r, tm.year % 100);
	case CENTURY: return enc(r, tm.year / 100);
	default: return r->ram[idx]; /* alarm registers */
	}
}

void rtc_init(struct rtc *r, const struct guest_mem *m)
{
	uint64_t above16 = m->low_size > (16u << 20) ? (m->low_size - (16u << 20)) >> 16 : 0;
	uint64_t above4g = (m->size - m->low_size) >> 16;

	memset(r, 0, sizeof(*r));
	r->ram[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
	r->ram[REG_B] = REG_B_24H;
	if (above16 > 0xffff)
		above16 = 0xffff;
	r->ram[0x34] = (uint8_t)above16;
	r->ram[0x35] = (uint8_t)(above16 >> 8);
	r->ram[0x5b] = (uint8_t)above4g;
	r->ram[0x5c] = (uint8_t)(above4g >> 8);
	r->ram[0x5d] = (uint8_t)(above4g >> 16);
}

void rtc_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool write)
{
	struct rtc *r = opaque;

	if (port == 0x70) {
		if (write)
			r->index = data[0] & 0x7f; /* bit 7: NMI mask */
		else
			memset(data, 0xff, len);
		return;
	}
	if (!write) {
		memset(data, 0, len);
		data[0] = rtc_reg(r, r->index);
		return;
	}
	if (r->index > 9 && r->index != REG_C && r->index != REG_D && r->index != CENTURY)
		r->ram[r->index] = data[0];
}
