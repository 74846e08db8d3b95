#include "service/server/health_service.h"

#include <optional>
#include <utility>

namespace citekb {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// One Watch stream. At most one write is in flight (the callback API's
// rule); a status that changes meanwhile replaces the one waiting, so a
// slow client gets the latest status rather than a backlog.
//
// Locking: HealthService::mu_ may be held when Send() or End() take mu_,
// never the other way round. gRPC runs OnWriteDone/OnCancel/OnDone on its
// own threads, never inline from StartWrite() or Finish(), so calling those
// with mu_ held cannot deadlock.
class HealthService::Watcher final
    : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  Watcher(HealthService* service, std::string name)
      : service_(service), name_(std::move(name)) {}

  const std::string& name() const { return name_; }

  // Sends `status` unless it is the last one sent or queued.
  void Send(Status status) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (finishing_ || last_ == status) return;
    last_ = status;
    next_ = status;
    PumpLocked();
  }

  // Ends the stream with `status` once what is queued has been sent.
  void End(grpc::Status status) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    FinishAfterWritesLocked(std::move(status));
  }

  void OnWriteDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      // The stream is broken (client gone): nothing more can be sent.
      next_.reset();
      FinishAfterWritesLocked(grpc::Status::CANCELLED);
      return;
    }
    PumpLocked();
  }

  void OnCancel() override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    next_.reset();
    FinishAfterWritesLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    service_->Forget(this);
    delete this;
  }

 private:
  void FinishAfterWritesLocked(grpc::Status status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!finishing_) {
      finishing_ = true;
      final_status_ = std::move(status);
    }
    PumpLocked();
  }

  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (next_.has_value()) {
      response_.set_status(*next_);
      next_.reset();
      writing_ = true;
      StartWrite(&response_);
    } else if (finishing_) {
      finished_ = true;
      Finish(final_status_);
    }
  }

  HealthService* const service_;
  const std::string name_;
  absl::Mutex mu_;
  std::optional<Status> last_ ABSL_GUARDED_BY(mu_);
  std::optional<Status> next_ ABSL_GUARDED_BY(mu_);
  // Written by gRPC while writing_ is true, so only changed when it is not.
  HealthCheckResponse response_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

HealthService::HealthService() { serving_[""] = true; }

HealthService::~HealthService() = default;

HealthService::Status HealthService::StatusOfLocked(
    const std::string& service) const {
  auto it = serving_.find(service);
  if (it == serving_.end()) return HealthCheckResponse::SERVICE_UNKNOWN;
  return it->second ? HealthCheckResponse::SERVING
                    : HealthCheckResponse::NOT_SERVING;
}

void HealthService::NotifyLocked(const std::string& service) {
  const Status status = StatusOfLocked(service);
  for (Watcher* watcher : watchers_) {
    if (watcher->name() == service) watcher->Send(status);
  }
}

void HealthService::SetServingStatus(const std::string& service, bool serving) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  serving_[service] = serving;
  NotifyLocked(service);
}

void HealthService::SetServingStatus(bool serving) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  for (auto& [service, value] : serving_) {
    value = serving;
    NotifyLocked(service);
  }
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  for (auto& [service, value] : serving_) {
    value = false;
    NotifyLocked(service);
  }
  shut_down_ = true;
}

void HealthService::EndWatches() {
  absl::MutexLock lock(&mu_);
  watches_ended_ = true;
  for (Watcher* watcher : watchers_) {
    watcher->End(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down"));
  }
}

void HealthService::Forget(Watcher* watcher) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(watcher);
}

grpc::ServerUnaryReactor* HealthService::Check(
    grpc::CallbackServerContext* context, const HealthCheckRequest* request,
    HealthCheckResponse* response) {
  grpc::Status status;
  {
    absl::MutexLock lock(&mu_);
    const Status serving = StatusOfLocked(request->service());
    if (serving == HealthCheckResponse::SERVICE_UNKNOWN) {
      status = grpc::Status(grpc::StatusCode::NOT_FOUND,
                            "service: not known to this server");
    } else {
      response->set_status(serving);
    }
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthService::Watch(
    grpc::CallbackServerContext* context, const HealthCheckRequest* request) {
  auto* watcher = new Watcher(this, request->service());
  absl::MutexLock lock(&mu_);
  watchers_.insert(watcher);
  watcher->Send(StatusOfLocked(request->service()));
  if (watches_ended_) {
    watcher->End(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down"));
  }
  return watcher;
}

}  // namespace citekb
