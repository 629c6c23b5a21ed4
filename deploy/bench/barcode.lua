-- GET /api/v1/foods/barcode/{code}, cycling over the codes in $BARCODES (one per line), each thread from its own
-- offset so that the connections do not ask for the same food at the same time.
local codes = {}
local next_index = 1

function setup(thread)
  thread:set("offset", math.random(1, 1000))
end

function init(args)
  for line in io.lines(os.getenv("BARCODES")) do
    codes[#codes + 1] = line
  end
  next_index = (offset or 1) % #codes + 1
end

function request()
  local code = codes[next_index]
  next_index = next_index % #codes + 1
  local auth = os.getenv("AUTH")
  local headers = {}
  if auth ~= nil and auth ~= "" then
    headers["Authorization"] = auth
  end
  return wrk.format("GET", "/api/v1/foods/barcode/" .. code, headers)
end

function response(status, headers, body)
  if status ~= 200 then
    print("unexpected status " .. status)
  end
end
