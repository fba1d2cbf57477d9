"""LED and buzzer feedback, driven from the main loop (never sleeps).

misuse: green off, red on and latched, three 150 ms beeps;
clear:  red off, buzzer off, green on.
"""

# (ms from start, pin, value)
PATTERNS = {
    "misuse": ((0, "green", 0), (0, "red", 1), (0, "buzzer", 1), (150, "buzzer", 0),
               (300, "buzzer", 1), (450, "buzzer", 0), (600, "buzzer", 1), (750, "buzzer", 0)),
    "clear": ((0, "red", 0), (0, "buzzer", 0), (0, "green", 1)),
}


class Feedback:
    def __init__(self, red, green, buzzer, clock):
        self.pins = {"red": red, "green": green, "buzzer": buzzer}
        self.clock = clock
        self.steps = ()  # type: tuple
        self.i = 0
        self.start = 0
        self.pattern = None
        for p in self.pins.values():
            p.value(0)

    def play(self, name):
        if name not in PATTERNS:
            return False
        self.pattern = name
        self.steps = PATTERNS[name]
        self.i = 0
        self.start = self.clock.ticks_ms()
        self.step()
        return True

    def step(self):
        elapsed = self.clock.since(self.start)
        while self.i < len(self.steps) and self.steps[self.i][0] <= elapsed:
            step = self.steps[self.i]  # type: tuple
            self.pins[step[1]].value(step[2])
            self.i += 1

    def busy(self):
        return self.i < len(self.steps)
