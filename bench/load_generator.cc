#include "bench/load_generator.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/channel_arguments.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <queue>
#include <thread>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bench/process_stats.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/sqlite.h"  // CITEKB_RETURN_IF_ERROR

namespace citekb {
namespace {

using Clock = std::chrono::steady_clock;

absl::Duration Since(Clock::time_point from, Clock::time_point to) {
  return absl::FromChrono(to - from);
}

double OwnCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return t.tv_sec + t.tv_usec / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  grpc::Slice slice;
  if (!buffer.TrySingleSlice(&slice).ok() &&
      !buffer.DumpToSingleSlice(&slice).ok()) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(slice.begin()),
                     slice.size());
}

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

// One run. Each slot has at most one call in flight, and its next call is
// started from the previous call's completion callback, so a slot's fields
// are only touched by one callback at a time: only the shared counters and
// the finish bookkeeping need synchronization.
class LoadRun {
 public:
  LoadRun(const LoadOptions& options, const RequestMix& mix)
      : options_(options), method_(mix.method) {
    for (const std::string& request : mix.requests) {
      requests_.push_back(ToByteBuffer(request));
    }
  }

  absl::StatusOr<LoadResult> Run() {
    CITEKB_RETURN_IF_ERROR(Connect());
    slots_.resize(static_cast<size_t>(options_.concurrency));
    for (size_t i = 0; i < slots_.size(); ++i) {
      slots_[i].stub = stubs_[i % stubs_.size()].get();
    }

    std::thread canceller;
    if (options_.cancel_fraction > 0)
      canceller = std::thread([this] { CancelDueCalls(); });

    const Clock::time_point begin = Clock::now();
    measure_start_ = begin + absl::ToChronoNanoseconds(options_.warmup);
    measure_end_ =
        measure_start_ + absl::ToChronoNanoseconds(options_.duration);
    for (Slot& slot : slots_) StartCall(slot);

    // Sample CPU at the start of the measured window, then serve restarts
    // (see StartCall) until every slot has finished.
    absl::SleepFor(Since(Clock::now(), measure_start_));
    const double client_cpu_start = OwnCpuSeconds();
    absl::StatusOr<double> server_cpu_start =
        options_.server_pid > 0
            ? ProcessCpuSeconds(options_.server_pid)
            : absl::StatusOr<double>(absl::NotFoundError(""));
    while (true) {
      Slot* restart = nullptr;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &LoadRun::RestartOrAllFinished));
        if (restarts_.empty()) break;
        restart = restarts_.front();
        restarts_.pop_front();
      }
      StartCall(*restart);
    }

    if (canceller.joinable()) {
      {
        absl::MutexLock lock(&cancel_mu_);
        cancel_stop_ = true;
      }
      canceller.join();
    }

    LoadResult result;
    result.client_cpu_seconds = OwnCpuSeconds() - client_cpu_start;
    if (server_cpu_start.ok()) {
      absl::StatusOr<double> server_cpu_end =
          ProcessCpuSeconds(options_.server_pid);
      if (server_cpu_end.ok()) {
        result.server_cpu_seconds = *server_cpu_end - *server_cpu_start;
      }
    }
    Clock::time_point last = measure_start_;
    for (Slot& slot : slots_) {
      result.latency.Merge(slot.latency);
      result.warmup_requests += slot.warmup_requests;
      result.warmup_errors += slot.warmup_errors;
      for (const auto& [code, count] : slot.errors) {
        result.errors_by_code[code] += count;
        result.errors += count;
      }
      for (const auto& [code, message] : slot.messages) {
        result.error_messages.try_emplace(code, message);
      }
      if (slot.last_completion > last) last = slot.last_completion;
    }
    result.requests = result.latency.count();
    result.elapsed = Since(measure_start_, last);
    const double seconds = absl::ToDoubleSeconds(result.elapsed);
    result.qps = seconds > 0 ? result.requests / seconds : 0;
    return result;
  }

 private:
  struct Slot {
    grpc::GenericStub* stub = nullptr;
    // Shared with the canceller, which may still hold it after the call.
    std::shared_ptr<grpc::ClientContext> context;
    absl::BitGen random;  // Deadlines and cancellations (soak options).
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    Clock::time_point start;
    bool measured = false;
    LatencyHistogram latency;
    std::map<std::string, int64_t> errors;
    std::map<std::string, std::string> messages;
    int64_t warmup_requests = 0;
    int64_t warmup_errors = 0;
    Clock::time_point last_completion;
  };

  bool RestartOrAllFinished() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !restarts_.empty() || finished_ == static_cast<int>(slots_.size());
  }

  absl::Status Connect() {
    for (int i = 0; i < options_.channels; ++i) {
      grpc::ChannelArguments args;
      // Without a local pool, channels with equal arguments share one
      // subchannel, that is one TCP connection.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
          options_.target, grpc::InsecureChannelCredentials(), args);
      if (!channel->WaitForConnected(
              absl::ToChronoTime(absl::Now() + options_.connect_timeout))) {
        return absl::UnavailableError(
            absl::StrCat("cannot connect to ", options_.target, " within ",
                         absl::FormatDuration(options_.connect_timeout)));
      }
      stubs_.push_back(std::make_unique<grpc::GenericStub>(channel));
      channels_.push_back(std::move(channel));
    }
    return absl::OkStatus();
  }

  // Starts the slot's next call, or marks the slot finished when the run is
  // over. A call that fails at once (say, the server went away) may run its
  // callback on this very thread; past a small depth the restart is handed
  // to the main thread so the stack does not grow without bound.
  void StartCall(Slot& slot) {
    static thread_local int depth = 0;
    const Clock::time_point now = Clock::now();
    const bool measured = now >= measure_start_;
    if (measured && (options_.requests > 0
                         ? measured_started_.fetch_add(1) >= options_.requests
                         : now >= measure_end_)) {
      absl::MutexLock lock(&mu_);
      ++finished_;
      return;
    }
    if (depth >= 8) {
      absl::MutexLock lock(&mu_);
      restarts_.push_back(&slot);
      return;
    }
    const size_t next = next_request_.fetch_add(1, std::memory_order_relaxed);
    slot.request = requests_[next % requests_.size()];
    slot.response.Clear();
    slot.context = std::make_shared<grpc::ClientContext>();
    absl::Duration deadline = options_.deadline;
    if (options_.min_deadline > absl::ZeroDuration() &&
        options_.min_deadline < deadline) {
      deadline = options_.min_deadline + absl::Uniform(slot.random, 0.0, 1.0) *
                                             (deadline - options_.min_deadline);
    }
    slot.context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    if (options_.cancel_fraction > 0 &&
        absl::Bernoulli(slot.random, options_.cancel_fraction)) {
      const auto when =
          now + absl::ToChronoNanoseconds(absl::Uniform(slot.random, 0.0, 1.0) *
                                          deadline);
      absl::MutexLock lock(&cancel_mu_);
      cancels_.emplace(when, slot.context);
    }
    slot.measured = measured;
    slot.start = now;
    ++depth;
    slot.stub->UnaryCall(
        slot.context.get(), method_, grpc::StubOptions(), &slot.request,
        &slot.response,
        [this, &slot](grpc::Status status) { Done(slot, status); });
    --depth;
  }

  void Done(Slot& slot, const grpc::Status& status) {
    const Clock::time_point end = Clock::now();
    std::string code;
    std::string message;
    if (!status.ok()) {
      code = CodeName(status.error_code());
      message = status.error_message();
    } else if (options_.verify) {
      absl::Status verified =
          VerifyResponse(options_.rpc, FromByteBuffer(slot.response));
      if (!verified.ok()) {
        code = "BAD_RESPONSE";
        message = std::string(verified.message());
      }
    }
    if (slot.measured) {
      slot.latency.Record(Since(slot.start, end));
      slot.last_completion = end;
      if (!code.empty()) {
        ++slot.errors[code];
        slot.messages.try_emplace(code, message);
      }
    } else {
      ++slot.warmup_requests;
      if (!code.empty()) {
        ++slot.warmup_errors;
        slot.messages.try_emplace(code, message);
      }
    }
    StartCall(slot);
  }

  // The canceller thread: cancels each scheduled call when its moment
  // comes (a call that has finished by then is not affected).
  void CancelDueCalls() {
    while (true) {
      std::shared_ptr<grpc::ClientContext> due;
      {
        absl::MutexLock lock(&cancel_mu_);
        if (cancel_stop_) return;
        if (!cancels_.empty() && cancels_.top().first <= Clock::now()) {
          due = cancels_.top().second;
          cancels_.pop();
        }
      }
      if (due != nullptr) {
        due->TryCancel();
      } else {
        absl::SleepFor(absl::Milliseconds(1));
      }
    }
  }

  const LoadOptions& options_;
  const std::string method_;
  std::vector<grpc::ByteBuffer> requests_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  std::vector<Slot> slots_;
  Clock::time_point measure_start_;
  Clock::time_point measure_end_;
  std::atomic<size_t> next_request_{0};
  std::atomic<int64_t> measured_started_{0};

  absl::Mutex mu_;
  int finished_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Slot*> restarts_ ABSL_GUARDED_BY(mu_);

  using ScheduledCancel =
      std::pair<Clock::time_point, std::shared_ptr<grpc::ClientContext>>;
  struct Later {
    bool operator()(const ScheduledCancel& a, const ScheduledCancel& b) const {
      return a.first > b.first;
    }
  };
  absl::Mutex cancel_mu_;
  std::priority_queue<ScheduledCancel, std::vector<ScheduledCancel>, Later>
      cancels_ ABSL_GUARDED_BY(cancel_mu_);
  bool cancel_stop_ ABSL_GUARDED_BY(cancel_mu_) = false;
};

}  // namespace

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options,
                                   const RequestMix& mix) {
  if (options.target.empty())
    return absl::InvalidArgumentError("--target: must not be empty");
  if (options.concurrency < 1) {
    return absl::InvalidArgumentError("--concurrency: must be at least 1");
  }
  if (options.channels < 1)
    return absl::InvalidArgumentError("--channels: must be at least 1");
  if (options.requests < 0) {
    return absl::InvalidArgumentError("--requests: must not be negative");
  }
  if (options.requests == 0 && options.duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--duration: must be positive (or give --requests)");
  }
  if (options.warmup < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--warmup: must not be negative");
  }
  if (options.deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--deadline: must be positive");
  }
  if (options.min_deadline < absl::ZeroDuration() ||
      options.min_deadline > options.deadline) {
    return absl::InvalidArgumentError(
        "--min_deadline: must be between 0 and --deadline");
  }
  if (!(options.cancel_fraction >= 0 && options.cancel_fraction <= 1)) {
    return absl::InvalidArgumentError(
        "--cancel_fraction: must be between 0 and 1");
  }
  if (mix.requests.empty())
    return absl::InvalidArgumentError("no requests to send");
  LoadRun run(options, mix);
  return run.Run();
}

}  // namespace citekb
