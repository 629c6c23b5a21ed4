-- Prints the 95th latency percentile, which wrk's --latency leaves out (it prints the 50th, 75th, 90th and 99th),
-- as "p95 1.23ms". Load it with `-s`, or from another script with dofile.
function done(summary, latency, requests)
  io.write(string.format("p95 %.2fms\n", latency:percentile(95) / 1000))
end
