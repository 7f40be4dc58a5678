-- wrk script: POST /signup for a new voter of a generated election each time (no voter twice,
-- so every answer is a real sign-up: roll match, counters, a pending change, codes to the outbox).
local voters = {}
local areas = { 916, 415, 510, 213, 310, 323, 408, 619, 714, 818, 909, 949, 951, 559, 707, 805, 925, 650 }
local next_voter = 0

function init(args)
  local file = assert(io.open(os.getenv("VOTERS_CSV"), "r"))
  local first = true
  for line in file:lines() do
    if not first then
      local id, county, fname, lname, dob, zip, status = line:match("^([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*)$")
      if status == "ACTIVE" then
        voters[#voters + 1] = { fname, lname, dob, zip }
      end
    end
    first = false
  end
  file:close()
  -- Each thread takes every n-th voter, starting at its own number.
  threads_total = tonumber(os.getenv("WRK_THREADS") or "1")
  thread_no = (wrk.thread and tonumber(wrk.thread:get("no"))) or 0
end

local thread_counter = 0
function setup(thread)
  thread:set("no", thread_counter)
  thread_counter = thread_counter + 1
end

function request()
  local i = next_voter * threads_total + thread_no + 1
  next_voter = next_voter + 1
  local v = voters[((i - 1) % #voters) + 1]
  -- A number of its own for every request (a phone serves at most 5 voters and gets 5 codes a
  -- day): California area codes, 555 exchange.
  local area = areas[(math.floor((i - 1) / 10000) % #areas) + 1]
  local phone = string.format("+1%d555%04d", area, i % 10000)
  local body = string.format(
    '{"first_name":"%s","last_name":"%s","date_of_birth":"%s","zip":"%s","language":"en","sms":"%s"}',
    v[1], v[2], v[3], v[4], phone)
  return wrk.format("POST", "/signup", { ["Content-Type"] = "application/json" }, body)
end
