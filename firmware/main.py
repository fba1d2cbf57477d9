# ESP32 entry point: copied to the board's flash root with sebiao_station/.
from sebiao_station.esp32_board import main

main()
