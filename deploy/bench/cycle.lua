-- GET $CYCLE_PREFIX<line>, cycling over the lines of $CYCLE_LINES (barcodes, search texts…), each thread from its
-- own offset so that the connections do not ask for the same thing at the same time. $AUTH, when set, is sent as
-- the Authorization header.
dofile("deploy/bench/percentiles.lua")

local lines = {}
local next_index = 1

function setup(thread)
  thread:set("offset", math.random(1, 1000))
end

function init(args)
  for line in io.lines(os.getenv("CYCLE_LINES")) do
    lines[#lines + 1] = line
  end
  next_index = (offset or 1) % #lines + 1
end

function request()
  local line = lines[next_index]
  next_index = next_index % #lines + 1
  local auth = os.getenv("AUTH")
  local headers = {}
  if auth ~= nil and auth ~= "" then
    headers["Authorization"] = auth
  end
  return wrk.format("GET", os.getenv("CYCLE_PREFIX") .. line, headers)
end

function response(status, headers, body)
  if status ~= 200 then
    print("unexpected status " .. status)
  end
end
