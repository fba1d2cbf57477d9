"""Our DS18B20 driver against the simulated chip on a simulated 1-Wire line."""

import fwsupport  # noqa: F401
from sebiao_sim.ds18b20_sim import DS18B20Sim, OneWireLine, SimOneWire, make_rom
from sebiao_station.clock import FakeClock
from sebiao_station.ds18b20 import CONVERT_MS, DS18B20, ProbeError, check_scratchpad, crc8, raw_to_dc


def rig(n=1):
    clock = FakeClock(1000)
    line = OneWireLine()
    chips = [line.attach(DS18B20Sim(serial=0xA1B2C3D4 + i, clock=clock)) for i in range(n)]
    return clock, chips, SimOneWire(line)


def one_probe():
    """One chip alone on the line, read through SKIP ROM."""
    clock, (chip,), ow = rig()
    return clock, chip, DS18B20(ow)


def measure(clock, sensor):
    sensor.start()
    clock.advance(CONVERT_MS)
    return sensor.read_dc()


def fails(sensor, clock, reason, convert=True):
    try:
        if convert:
            sensor.start()
            clock.advance(CONVERT_MS)
        sensor.read_dc()
    except ProbeError as exc:
        assert str(exc) == reason, (str(exc), reason)
        return
    raise AssertionError("no ProbeError: " + reason)


def test_crc8_is_the_maxim_one():
    # the ROM code of a real DS18B20 from Maxim's application note 27 example: CRC 0xA2
    assert crc8(bytes([0x02, 0x1C, 0xB8, 0x01, 0x00, 0x00, 0x00])) == 0xA2
    assert crc8(b"") == 0
    rom = make_rom(0x123456789ABC)
    assert rom[0] == 0x28 and crc8(rom[:7]) == rom[7] and crc8(rom) == 0


def test_raw_to_tenths_table():
    # data sheet table 1 (12 bits), in tenths of °C
    for raw, dc in ((0x07D0, 1250), (0x0550, 850), (0x0191, 251), (0x00A2, 101), (0x0008, 5),
                    (0x0000, 0), (0xFFF8, -5), (0xFF5E, -101), (0xFE6F, -251), (0xFC90, -550)):
        assert raw_to_dc(raw) == dc, (hex(raw), raw_to_dc(raw), dc)


def test_readings_through_skip_rom():
    clock, chip, sensor = one_probe()
    for c, dc in ((20.0, 200), (45.0, 450), (82.5, 825), (99.9375, 999), (121.0, 1210),
                  (-10.125, -101), (0.0625, 1)):
        chip.temp_c = c
        assert measure(clock, sensor) == dc, (c, dc)
    assert chip.config == 0x7F  # 12 bits set by the driver


def test_a_conversion_takes_750_ms():
    clock, chip, sensor = one_probe()
    chip.temp_c = 60.0
    assert measure(clock, sensor) == 600
    chip.temp_c = 70.0
    sensor.start()
    clock.advance(CONVERT_MS - 100)
    assert sensor.read_dc() == 600  # not done: the scratchpad still holds the last conversion
    clock.advance(100)
    assert sensor.read_dc() == 700


def test_match_rom_addresses_one_of_two_probes_found_by_scan():
    clock, chips, ow = rig(2)
    roms = ow.scan()
    assert sorted(bytes(r) for r in roms) == sorted(c.rom for c in chips)
    chips[0].temp_c, chips[1].temp_c = 30.0, 90.0
    for chip in chips:
        sensor = DS18B20(ow, rom=chip.rom)
        assert measure(clock, sensor) == int(chip.temp_c * 10)


def test_faults_are_probe_errors():
    clock, chip, sensor = one_probe()
    chip.temp_c = 50.0
    assert measure(clock, sensor) == 500
    chip.present = False
    fails(sensor, clock, "no presence")
    chip.present = True
    chip.crc_error = True
    fails(sensor, clock, "crc")
    chip.crc_error = False
    assert measure(clock, sensor) == 500
    chip.stuck_85 = True
    chip.raw = 0x0550  # the chip browned out; its conversions no longer land
    fails(sensor, clock, "85 power-on value")
    fails(sensor, clock, "85 power-on value")


def test_power_on_85_before_any_conversion_is_refused():
    clock, chip, sensor = one_probe()
    fails(sensor, clock, "85 power-on value", convert=False)


def test_a_real_85_is_believed_after_a_reading_near_it():
    clock, chip, sensor = one_probe()
    chip.temp_c = 84.0
    assert measure(clock, sensor) == 840
    chip.temp_c = 85.0
    assert measure(clock, sensor) == 850


def test_scratchpad_checks_table():
    good = bytes([0x91, 0x01, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10])
    good += bytes([crc8(good)])
    p85 = bytes([0x50, 0x05, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10])
    p85 += bytes([crc8(p85)])
    hot = bytes([0xD0, 0x07 + 1, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10])  # 0x08D0 = 141 °C: beyond the chip
    hot += bytes([crc8(hot)])
    rows = (
        (good, None, 251),
        (b"\xff" * 9, None, "no answer"),
        (b"\x00" * 9, None, "line held low"),
        (good[:8] + bytes([good[8] ^ 1]), None, "crc"),
        (good[:5], None, "short read"),
        (p85, None, "85 power-on value"),
        (p85, 200, "85 power-on value"),
        (p85, 830, 850),
        (hot, None, "out of range"),
    )
    for data, last, want in rows:
        try:
            got = check_scratchpad(data, last)
        except ProbeError as exc:
            got = str(exc)
        assert got == want, (data, last, got, want)


def test_lost_resolution_is_set_again():
    clock, chip, sensor = one_probe()
    chip.temp_c = 50.0
    assert measure(clock, sensor) == 500
    chip.config = 0x1F  # 9 bits, as after a power glitch with a 9-bit EEPROM setting
    chip.temp_c = 50.3
    assert measure(clock, sensor) == 500  # this one is coarse (0.5 °C steps)...
    assert measure(clock, sensor) == 503  # ...and the next is 12 bits again
