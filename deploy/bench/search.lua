-- GET /api/v1/foods?q={text}, cycling over the texts in $SEARCHES (one per line), each thread from its own offset:
-- a mix of queries whose pages are not all the same few foods, as a crowd of users searching would ask.
local texts = {}
local next_index = 1

function setup(thread)
  thread:set("offset", math.random(1, 1000))
end

function init(args)
  for line in io.lines(os.getenv("SEARCHES")) do
    texts[#texts + 1] = line
  end
  next_index = (offset or 1) % #texts + 1
end

function request()
  local text = texts[next_index]
  next_index = next_index % #texts + 1
  local auth = os.getenv("AUTH")
  local headers = {}
  if auth ~= nil and auth ~= "" then
    headers["Authorization"] = auth
  end
  return wrk.format("GET", "/api/v1/foods?q=" .. text, headers)
end

function response(status, headers, body)
  if status ~= 200 then
    print("unexpected status " .. status)
  end
end
